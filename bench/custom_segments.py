"""`python -m bench.custom_segments [--size M] [--data DIR]`: issue 14's speed target for your own
segments, on its own (the rest of RESULTS.md is kept as it is).

The definition: High Value, no purchase in the last 90 days, at least 3 page views in the last 30.
Measured interleaved: its count and its members (first page of 100) through segwork.custom, the same
set written by hand in DuckDB and in pandas; the builder's live count (custom.condition_counts)
alone. The three answers are compared before anything is timed. Then where the time goes: the
engine's own time of stripped-down copies of the compiled SQL (bench/ only; segwork/ untouched).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd

from segwork import custom
from segwork.custom import Events, Field, LastEvent, Segment
from segwork.segments import DEFAULT_RULES

from bench import data, engine, report
from bench.custom_sql import STEPS, step_sql
from bench.timing import interleaved

DEFINITION = Segment("lapsed but browsing", "High Value, no purchase in the last 90 days, 3+ page views in the last 30",
                     all=[Field("value_segment", "=", "High Value"), LastEvent("purchase", ">=", 90),
                          Events("page_view", ">=", 3, days=30)])
AS_OF = pd.Timestamp(data.END, tz="UTC")
LIMIT = 100
RUN = report.RUNS / "custom.json"
BEGIN, END_MARK = "<!-- custom segments: begin -->", "<!-- custom segments: end -->"
GOALS = {"count_ms": 1000.0, "members_ms": 1000.0, "builder_ms": 1000.0, "vs": 5.0}

DUCK = """
WITH p AS (
    SELECT * FROM customers WHERE timestamp <= $as_of
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY timestamp DESC) = 1
), b AS (
    SELECT customer_id, max(timestamp) FILTER (WHERE event_type = 'purchase') AS last_purchase,
           count(*) FILTER (WHERE event_type = 'page_view' AND timestamp >= $since) AS page_views
    FROM customer_events WHERE timestamp <= $as_of AND event_type IN ('purchase', 'page_view')
    GROUP BY customer_id
), m AS (
    SELECT p.* FROM p LEFT JOIN b USING (customer_id)
    WHERE p.lifetime_value >= $high_value
      AND (b.last_purchase IS NULL OR date_diff('day', b.last_purchase::DATE, $as_of::DATE) >= 90)
      AND coalesce(b.page_views, 0) >= 3
)
"""
DUCK_COUNT = DUCK + "SELECT count(*) AS customers FROM m"
DUCK_MEMBERS = DUCK + """
SELECT customer_id, name, email, nullif(age, 0) AS age, gender, location, signup_date, lifetime_value,
       'High Value' AS value_segment,
       CASE WHEN date_diff('day', signup_date::DATE, $as_of::DATE) > $loyal_days THEN 'Loyal'
            WHEN date_diff('day', signup_date::DATE, $as_of::DATE) > $regular_days THEN 'Regular' ELSE 'New' END AS loyalty_segment,
       count(*) OVER () AS total_rows
FROM m ORDER BY lifetime_value DESC, customer_id LIMIT 100
"""


class Duck:
    """DuckDB in memory, both tables created from the same Parquet files; the definition by hand."""

    def __init__(self, ds: data.Dataset):
        self.con = duckdb.connect()
        self.con.execute(f"SET threads = {len(os.sched_getaffinity(0))}")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(f"CREATE TABLE customers AS SELECT * FROM read_parquet('{ds.customers_parquet}')")
        self.con.execute(f"CREATE TABLE customer_events AS SELECT * FROM read_parquet('{ds.events_parquet}')")
        rules = DEFAULT_RULES.sql_parameters()
        self.p = {"as_of": AS_OF.to_pydatetime(), "since": (AS_OF - timedelta(days=30)).to_pydatetime(), **rules}

    def _df(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql, {k: v for k, v in self.p.items() if f"${k}" in sql}).df()

    def count(self) -> int:
        return int(self._df(DUCK_COUNT)["customers"].iloc[0])

    def members(self) -> pd.DataFrame:
        return self._df(DUCK_MEMBERS)


def pandas_members(customers: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The whole segment as a notebook would compute it: latest profile, masks, groupby, map."""
    profiles = customers[customers["timestamp"] <= AS_OF].sort_values("timestamp").drop_duplicates("customer_id", keep="last")
    high = profiles[profiles["lifetime_value"] >= DEFAULT_RULES.high_value]
    seen = events[events["timestamp"] <= AS_OF]
    last_purchase = seen.loc[seen["event_type"] == "purchase"].groupby("customer_id")["timestamp"].max()
    views = seen.loc[(seen["event_type"] == "page_view") & (seen["timestamp"] >= AS_OF - pd.Timedelta(days=30))] \
        .groupby("customer_id").size()
    last = high["customer_id"].map(last_purchase)
    lapsed = last.isna() | ((AS_OF.normalize() - last.dt.normalize()).dt.days >= 90)
    return high[lapsed & (high["customer_id"].map(views).fillna(0) >= 3)]


def pandas_page(found: pd.DataFrame) -> pd.DataFrame:
    return found.sort_values(["lifetime_value", "customer_id"], ascending=[False, True]).head(LIMIT)


def agreement(client, duck: Duck, customers, events) -> dict:
    """Count and the first page's customers and lifetime values of all three, before timing."""
    ours, theirs, panda = custom.count(client, DEFINITION, as_of=AS_OF), duck.count(), len(pandas_members(customers, events))
    pages = {"segwork": custom.members(client, DEFINITION, as_of=AS_OF, limit=LIMIT), "duckdb": duck.members(),
             "pandas": pandas_page(pandas_members(customers, events))}
    ids = {k: v["customer_id"].astype(str).tolist() for k, v in pages.items()}
    values = {k: v["lifetime_value"].round(2).tolist() for k, v in pages.items()}
    problems = []
    if not ours == theirs == panda:
        problems.append(f"count: segwork {ours:,}, duckdb {theirs:,}, pandas {panda:,}")
    if not ids["segwork"] == ids["duckdb"] == ids["pandas"] or not values["segwork"] == values["duckdb"] == values["pandas"]:
        problems.append("members: the first page differs")
    builder = custom.condition_counts(client, DEFINITION, as_of=AS_OF)
    if int(builder["customers"].iloc[-2]) != ours:
        problems.append(f"builder: the segment row says {int(builder['customers'].iloc[-2]):,}, count {ours:,}")
    return {"count": ours, "problems": problems, "conditions": builder["customers"].tolist()[:-2],
            "everyone": int(builder["customers"].iloc[-1])}


def steps(client, database: str, rounds: int) -> dict:
    """The engine's own elapsed time (median ms) of copies of the compiled SQL, stripped down or changed."""
    raw = engine.RawEngine(database)
    out = {}
    try:
        for name in STEPS:
            bound = step_sql(client, DEFINITION, AS_OF, name)
            counts = [int(raw.run(bound).iloc[0, 0])]
            raw.elapsed.clear()
            for _ in range(rounds):
                raw.run(bound)
            out[name] = {"ms": statistics.median(raw.elapsed) * 1000, "answer": counts[0]}
    finally:
        raw.close()
    return out


def judge(r: dict) -> list[dict]:
    q = r["timings"]
    med = {part: {way: s["median_ms"] for way, s in by.items()} for part, by in q.items()}
    out = [_t("count_ms", "custom.count median", med["count"]["segwork"], GOALS["count_ms"], "ms", at_most=True),
           _t("members_ms", f"custom.members (first {LIMIT}) median", med["members"]["segwork"], GOALS["members_ms"], "ms", at_most=True),
           _t("builder_ms", "builder's live count (custom.condition_counts) median", med["builder"]["segwork"],
              GOALS["builder_ms"], "ms", at_most=True)]
    for part in ("count", "members"):
        for vs in ("duckdb", "pandas"):
            out.append(_t(f"{part}_vs_{vs}", f"{part}: {vs} time / segwork time", med[part][vs] / med[part]["segwork"],
                          GOALS["vs"], "x", at_most=False))
    return out


def _t(tid, text, value, goal, unit, at_most: bool) -> dict:
    met = value <= goal if at_most else value >= goal
    short = f"{value / goal - 1:.0%} over" if at_most else f"{1 - value / goal:.0%} short"
    return {"id": tid, "text": text, "value": value, "goal": goal, "unit": unit, "met": met, "sign": "<=" if at_most else ">=",
            "shortfall": None if met else short}


def render(r: dict) -> str:
    m = r["machine"]
    lines = [BEGIN, f"## Your own segments (issue 14), size {r['size']}: {r['customers']:,} customers, {r['events']:,} events", "",
             f"Run {m['date']} by `python -m bench.custom_segments` (this section only; the sections above are from their "
             f"own runs), commit {m['commit']}; {m['cpu']}, {m['cores']} cores; load average (`uptime`) at start "
             f"{' '.join(m['load_average'])}, at end {' '.join(r['load_average_end'])}: the machine was shared, so "
             "medians and ranges matter more than any single run.", "",
             f"The definition: {DEFINITION.description} (as_of {data.END}); {r['agreement']['count']:,} customers. "
             f"Each condition alone: {', '.join(f'{c:,}' for c in r['agreement']['conditions'])} of "
             f"{r['agreement']['everyone']:,}.", "",
             "| target | goal | measured | met |", "|---|---|---|---|"]
    for t in r["targets"]:
        lines.append(f"| {t['text']} | {t['sign']} {t['goal']:g} {t['unit']} | {t['value']:.2f} {t['unit']} | "
                     + ("yes" if t["met"] else f"**no** ({t['shortfall']})") + " |")
    lines += ["", "Milliseconds, median [min - max] of interleaved runs after warm-up (runs in brackets):", "",
              "| what | segwork | DuckDB by hand | pandas by hand | DuckDB / segwork | pandas / segwork |", "|---|---:|---:|---:|---:|---:|"]
    for part, title in (("count", "count"), ("members", f"members, first {LIMIT} by lifetime value"),
                        ("builder", "builder's live count (each condition alone + the segment)")):
        by = r["timings"][part]
        cells = [f"{by[w]['median_ms']:.0f} [{by[w]['min_ms']:.0f} - {by[w]['max_ms']:.0f}] ({by[w]['runs']})" if w in by else "-"
                 for w in ("segwork", "duckdb", "pandas")]
        ratios = [f"{by[w]['median_ms'] / by['segwork']['median_ms']:.1f}x" if w in by else "-" for w in ("duckdb", "pandas")]
        lines.append(f"| {title} | " + " | ".join(cells + ratios) + " |")
    problems = r["agreement"]["problems"]
    lines += ["", "Answers: " + ("the count and the first page (ids, lifetime values) agree in all three, and the builder's "
                                 "segment row equals the count" if not problems else "**DISAGREE**: " + "; ".join(problems)) + ".",
              "", "Where the time goes: the engine's own time (median ms) of copies of the compiled count query (bench/custom_sql.py):", "",
              "| step | ms | answer |", "|---|---:|---:|"]
    lines += [f"| {name} | {s['ms']:.0f} | {s['answer']:,} |" for name, s in r["steps"].items()]
    lines += ["", END_MARK]
    return "\n".join(lines)


def write_results(r: dict) -> Path:
    """Put this run's section into RESULTS.md (replacing the previous one, or before 'How it is measured')."""
    text = report.RESULTS_MD.read_text()
    block = render(r)
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END_MARK, 1)[1]
    else:
        head, sep, tail = text.partition("## How it is measured")
        text = head + block + "\n\n" + sep + tail
    report.RESULTS_MD.write_text(text)
    return report.RESULTS_MD


def kept_section() -> list[str]:
    """The section as RESULTS.md holds it now, for bench/report.py to keep when it re-renders."""
    text = report.RESULTS_MD.read_text() if report.RESULTS_MD.exists() else ""
    if BEGIN not in text:
        return []
    return (BEGIN + text.split(BEGIN, 1)[1].split(END_MARK, 1)[0] + END_MARK).splitlines() + [""]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.custom_segments", description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(data.SIZES), default="M")
    ap.add_argument("--data", type=Path, help="a folder of cached generated files to use as they are (never regenerated)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds per comparison (default 5)")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    customers_n, events_n, ingest_rows = data.SIZES[args.size]
    ds = data.Dataset(args.size, customers_n, events_n, ingest_rows, args.data) if args.data else data.dataset(args.size, log=log)
    client, database, _ = engine.loaded_client(ds, log=log)
    r = {"size": args.size, "customers": ds.customers, "events": ds.events,
         "machine": report.machine(client.command("SELECT version()"))}
    log(f"custom segments at size {args.size}, load {' '.join(r['machine']['load_average'])}; reading frames, loading DuckDB ...")
    customers, events = data.load_frames(ds)
    duck = Duck(ds)
    r["agreement"] = agreement(client, duck, customers, events)
    for p in r["agreement"]["problems"]:
        log(f"  DISAGREE {p}")
    log(f"  {r['agreement']['count']:,} customers in the segment; timing ...")
    seg = {"count": lambda _i: custom.count(client, DEFINITION, as_of=AS_OF),
           "members": lambda _i: custom.members(client, DEFINITION, as_of=AS_OF, limit=LIMIT)}
    hand = {"count": (lambda _i: duck.count(), lambda _i: len(pandas_members(customers, events))),
            "members": (lambda _i: duck.members(), lambda _i: pandas_page(pandas_members(customers, events)))}
    r["timings"] = {}
    for part in ("count", "members"):
        stats = interleaved({"segwork": seg[part], "duckdb": hand[part][0], "pandas": hand[part][1]}, args.rounds)
        r["timings"][part] = {n: s.as_dict() for n, s in stats.items()}
        log(f"  {part:<8}" + "  ".join(f"{n} {s.median_ms:8.1f} ms" for n, s in stats.items()))
    stats = interleaved({"segwork": lambda _i: custom.condition_counts(client, DEFINITION, as_of=AS_OF)}, args.rounds)
    r["timings"]["builder"] = {n: s.as_dict() for n, s in stats.items()}
    log(f"  builder  segwork {stats['segwork'].median_ms:8.1f} ms")
    duck.con.close()
    del customers, events
    log("  where the time goes ...")
    r["steps"] = steps(client, database, 3)
    r["load_average_end"] = open("/proc/loadavg").read().split()[:3]
    r["targets"] = judge(r)
    report.RUNS.mkdir(exist_ok=True)
    RUN.write_text(json.dumps(r, indent=1, default=str) + "\n")
    path = write_results(r)
    for t in r["targets"]:
        log(f"  {'met   ' if t['met'] else 'MISSED'}  {t['text']}: {t['value']:.2f} {t['unit']} (goal {t['goal']:g})")
    log(f"wrote {path.name} (its custom segments section) in {time.perf_counter() - started:.0f} s")
    return 1 if r["agreement"]["problems"] else 0


def log(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
