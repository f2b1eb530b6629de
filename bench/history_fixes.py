"""`python -m bench.history_fixes --size M`: segwork's history SQL against the changes proposed in
bench/proposed/ (copies; segwork/ itself is not changed here), on the benchmark's data, answers
compared first, timings interleaved; writes bench/HISTORY_FIXES.md.

1. segment_sizes_over_time: where its time goes (the SQL cut short after each step; the reads
   of customer_history in EXPLAIN), and the proposed SQL.
2. The current-state lookup: the previous commit's SQL, this segwork's call (a check for a newer
   version, then customers FINAL), and the lookup from the history with no check (one query).
3. The summary at an as_of just before a few new versions and 6 months back: this segwork's
   history read (every customer's versions) and the proposed one (customers FINAL for those
   with no later version, the history for the others).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import pandas as pd

import segwork
from segwork import db, params, queries, sqlfiles, through_time

from bench import agree, data, engine, history
from bench.engine import RawEngine
from bench.history import AT_END, PAST, RANGES, _previous_query_df, proposed, sizes_anatomy

AS_OFS = (("as_of now", None), ("as_of END (11 versions newer)", AT_END), ("as_of 6 months back", PAST))
from bench.timing import interleaved
from bench.workload import workload

PROPOSED = Path(__file__).resolve().parent / "proposed"
OUT = Path(__file__).resolve().parent / "HISTORY_FIXES.md"


MATERIALIZED = "segwork/sql, `pieces` and `changes` MATERIALIZED"
LOOKUP_PROPOSED = "proposed A: one query, the history only if this customer's row is newer than as_of"
SUMMARY_CHECK = "proposed C: the check on customers, then as now"
SUMMARY_HYBRID = "proposed C+B: the check on customers, then customers FINAL or the hybrid latest_versions_at (B)"


def with_hybrid(name: str) -> str:
    """A query of segwork/sql reading proposed/latest_versions_at.sql where it reads customers FINAL
    (what queries.at would run for any as_of given, with no check first)."""
    sql = sqlfiles.load(name)
    assert sql.count("FROM customers FINAL") == 1
    return sql.replace("FROM customers FINAL", "FROM (\n" + proposed("latest_versions_at") + "\n)")



def materialized_sizes() -> str:
    """segwork's segment_sizes_over_time with the two CTEs it names twice computed once
    (ClickHouse 26.3+: AS MATERIALIZED): the smallest change that reads the history once."""
    sql = sqlfiles.load("segment_sizes_over_time")
    for name in ("pieces", "changes"):
        assert f"    {name} AS (" in sql
        sql = sql.replace(f"    {name} AS (", f"    {name} AS MATERIALIZED (", 1)
    return sql.rstrip() + "\nSETTINGS enable_materialized_cte = 1\n"


def tricky_history(seed: int = 5) -> list[str]:
    """Both proposals against segwork's SQL on a small history with what the benchmark's data
    lacks: several versions a customer (some on one day, some after the range), deletions, a
    customer re-created after one, a changed signup date; every `every`, filters, as_of values.
    Returns the differences found ([] if none). Runs in a scratch database, dropped after."""
    import uuid

    import numpy as np
    import pandas as pd

    from segwork import history as profile_history, synth

    rng = np.random.default_rng(seed)
    base = synth.customers(3000, seed=seed, end="2026-06-30", years=3)
    later = base.sample(frac=0.6, random_state=seed).copy()
    later["timestamp"] = later["timestamp"] + pd.to_timedelta(rng.integers(3600, 400 * 86400, len(later)), unit="s")
    later["lifetime_value"] = (later["lifetime_value"] * rng.uniform(0.2, 8.0, len(later))).round(2)
    later.loc[later.sample(frac=0.3, random_state=1).index, "location"] = "New York"
    same_day = later.sample(frac=0.2, random_state=2).copy()
    same_day["timestamp"] = same_day["timestamp"] + pd.Timedelta(minutes=5)
    same_day["lifetime_value"] = same_day["lifetime_value"] + 777
    moved = later.sample(frac=0.05, random_state=3).copy()
    moved["timestamp"] = moved["timestamp"] + pd.Timedelta(days=40)
    moved["signup_date"] = moved["signup_date"] - pd.Timedelta(days=500)
    versions = pd.concat([base, later, same_day, moved], ignore_index=True)
    versions = versions[versions["timestamp"] < pd.Timestamp("2027-03-01", tz="UTC")]
    name = f"fix_{uuid.uuid4().hex[:10]}"
    client = engine.open_client(name)
    problems = []
    try:
        segwork.ingest(client, "customers", versions)
        gone = sorted(base["customer_id"].sample(200, random_state=4))
        profile_history.delete_customers(client, gone, at="2026-02-01 12:00:00")
        back = base[base["customer_id"].isin(gone[:60])].copy()
        back["timestamp"] = pd.Timestamp("2026-04-15 08:00:00", tz="UTC")
        segwork.ingest(client, "customers", back)
        profile_history.delete_customers(client, gone[60:90], at="2026-09-10 00:00:00")
        for first, last, every, flt in (("2025-01-01", "2026-12-31", "day", {}), ("2024-06-01", "2027-02-28", "week", {}),
                                        ("2023-07-01", "2026-11-30", "month", {}), ("2026-02-01", "2026-02-01", "day", {}),
                                        ("2025-06-01", "2026-09-30", "day", {"location": "New York"}),
                                        ("2025-06-01", "2026-09-30", "month", {"min_age": 30, "max_age": 50})):
            p = through_time.sizes_parameters(first, last, every=every, location=flt.get("location"),
                                              min_age=flt.get("min_age"), max_age=flt.get("max_age"), rules=None)
            a = client.query_df(sqlfiles.load("segment_sizes_over_time"), parameters=p)
            b = client.query_df(proposed("segment_sizes_over_time"), parameters=p)
            if not a.equals(b):
                problems.append(f"tricky history: segment sizes {first}..{last} every {every} {flt} differ")
        hybrid = sqlfiles.load("customer_segments_summary").replace(
            "customers FINAL", "(\n" + proposed("latest_versions_at") + "\n)", 1)
        for at in ("2024-01-01", "2025-10-01 10:00:00", "2026-02-01 12:00:00", "2026-03-01", "2026-09-10",
                   "2026-12-01", "2027-06-01"):
            for flt in ({}, {"location": "New York", "min_age": 30, "max_age": 50}):
                p = queries._segment_filters(flt.get("location"), flt.get("min_age"), flt.get("max_age"), at, None)
                a = client.query_df(sqlfiles.load("customer_segments_summary@as_of"), parameters=p)
                b = client.query_df(hybrid, parameters=p)
                problems += [f"tricky history, summary at {at} {flt}: {d}"
                             for d in agree.differences("summary", {"segwork": a, "proposed": b})]
        lookup_text = (history.PROPOSED_SQL / "customer_segment_lookup.sql").read_text(encoding="utf-8")
        latest_sql = sqlfiles.expand(lookup_text)
        at_sql = sqlfiles.expand(lookup_text, tables={"latest_versions": "latest_versions_at"})
        hybrid_lookup = with_hybrid("customer_segment_lookup")
        checked_empty = 0
        ids = sorted(set(gone[:100]) | set(later["customer_id"].head(100)) | set(base["customer_id"].head(50)))
        for at in ("2024-01-01", "2025-10-01 10:00:00", "2026-02-01 12:00:00", "2026-03-01", "2026-04-15 08:00:00",
                   "2026-09-10", "2026-12-01", "2027-06-01"):
            for cid in ids:
                p = {"customer_id": cid, "as_of": params.timestamp("as_of", at), **segwork.DEFAULT_RULES.sql_parameters()}
                a = client.query_df(sqlfiles.load("customer_segment_lookup@as_of"), parameters=p)
                b = _previous_query_df(client, "tricky/lookup", latest_sql, p, True)
                if len(b) and b["profile_updated_at"].iloc[0] > p["as_of"]:
                    b = _previous_query_df(client, "tricky/lookup@as_of", at_sql, p, True)
                c = client.query_df(hybrid_lookup, parameters=p)
                if not len(a) == len(b) == len(c):
                    problems.append(f"tricky history, lookup {cid} at {at}: {len(a)} rows vs {len(b)} and {len(c)}")
                elif len(a):
                    problems += [f"tricky history, lookup {cid} at {at}: {d}" for d in agree.differences(
                        "lookup", {"segwork": a, "proposed A": b, "proposed B": c})]
                else:
                    checked_empty += 1
        print(f"tricky history: {len(ids)} customers x 8 as_of values looked up, {checked_empty} not there (all 3 ways)")
    finally:
        client.command(f"DROP DATABASE IF EXISTS `{name}`")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.history_fixes", description=__doc__)
    ap.add_argument("--size", choices=sorted(data.SIZES), default="M")
    ap.add_argument("--rounds", type=float, default=1.0)
    args = ap.parse_args(argv)
    ds = data.dataset(args.size)
    client, database, _ = engine.loaded_client(ds)
    w = workload(ds.customers, 300)
    n = lambda k: max(3, int(k * args.rounds))  # noqa: E731
    load_start = open("/proc/loadavg").read().split()[:3]
    raw = RawEngine(database)
    problems = tricky_history()
    print("tricky history:", problems or "the proposals agree with segwork's SQL", flush=True)

    # 1. segment sizes
    sizes = {}
    for label, every, flt in (("a year, every day", "day", {}), ("a year, every month", "month", {}),
                              ("a year, every day, New York, ages 25..45", "day",
                               {"location": "New York", "min_age": 25, "max_age": 45})):
        first, last = RANGES[every]
        p = through_time.sizes_parameters(first, last, every=every, location=flt.get("location"),
                                          min_age=flt.get("min_age"), max_age=flt.get("max_age"), rules=w.rules)
        now_sql = raw.bind_text(sqlfiles.load("segment_sizes_over_time"), p)
        new_sql = raw.bind_text(proposed("segment_sizes_over_time"), p)
        mat_sql = raw.bind_text(materialized_sizes(), p)
        a = raw.run(now_sql)
        for other, sql in (("proposed", new_sql), ("materialized", mat_sql)):
            if not a.equals(raw.run(sql)):
                problems.append(f"segment sizes ({label}): the {other} SQL's answer differs")
        ways = {"segwork/sql": lambda _i: raw.run(now_sql), "proposed": lambda _i: raw.run(new_sql),
                MATERIALIZED: lambda _i: raw.run(mat_sql)}
        stats = interleaved(ways, n(5), warmup=1)
        sizes[label] = (stats, len(a))
        print(f"sizes {label}: " + "  ".join(f"{k} {s.median_ms:.0f} ms" for k, s in stats.items()), flush=True)
    first, last = RANGES["day"]
    anatomy = sizes_anatomy(raw, through_time.sizes_parameters(first, last, every="day", location=None, min_age=None,
                                                               max_age=None, rules=w.rules), n(3))
    steps, reads = anatomy["ms"], anatomy["reads"]

    # 2. the lookup: now (no version newer), at END (11 newer, none of the looked-up customers) and 6 months back
    as_of = w.as_of
    previous_sql = sqlfiles.expand((history.PREVIOUS_SQL / "customer_segment_lookup.sql").read_text(encoding="utf-8"))
    lookup_text = (history.PROPOSED_SQL / "customer_segment_lookup.sql").read_text(encoding="utf-8")
    latest_sql = sqlfiles.expand(lookup_text)
    at_sql = sqlfiles.expand(lookup_text, tables={"latest_versions": "latest_versions_at"})

    def lookup_params(i, at):
        return {"customer_id": w.lookup_id(i), "as_of": params.timestamp("as_of", at), **w.rules.sql_parameters()}

    def proposed_lookup(i, at):
        """queries.customer_segment_lookup as proposed: customers FINAL; the history only if this
        customer's row there is newer than as_of."""
        p = lookup_params(i, at)
        found = _previous_query_df(client, "proposed/customer_segment_lookup", latest_sql, p, True)
        if len(found) and found["profile_updated_at"].iloc[0] > p["as_of"]:
            return _previous_query_df(client, "proposed/customer_segment_lookup@as_of", at_sql, p, True)
        return found

    def lookup_ways(at):
        return {
            "previous (de188e5; the latest profile whatever the as_of)":
                lambda i: _previous_query_df(client, "previous/customer_segment_lookup", previous_sql, lookup_params(i, at), True),
            "segwork now: check, then customers FINAL or the history":
                lambda i: segwork.customer_segment_lookup(client, w.lookup_id(i), as_of=at),
            "the history only, no check":
                lambda i: db.query_df(client, "customer_segment_lookup@as_of", lookup_params(i, at), utc=True),
            LOOKUP_PROPOSED: lambda i: proposed_lookup(i, at),
            "the check alone (newest_profile_version)":
                lambda _i: queries.at(client, "customer_segment_lookup", at, params.timestamp("as_of", at)),
        }

    as_ofs = [(label, at if at is not None else as_of) for label, at in AS_OFS]
    lookup = {}
    for label, at in as_ofs:
        ways = lookup_ways(at)
        names = list(ways)
        for i in range(60):
            answers = {"segwork": ways[names[1]](i), "history": ways[names[2]](i), "proposed": ways[LOOKUP_PROPOSED](i)}
            if at == as_of:
                answers["previous"] = ways[names[0]](i)
            if len(answers["segwork"]) == 0:
                problems += [f"lookup {label}: {k} found {w.lookup_id(i)}" for k, a in answers.items() if len(a)]
                continue
            problems += [f"lookup {label}: {d}" for d in agree.differences("lookup", answers)]
        lookup[label] = interleaved(ways, n(200), warmup=3)
        print(f"lookup {label}: " + "  ".join(f"{k[:20]} {s.median_ms:.2f} ms" for k, s in lookup[label].items()), flush=True)

    # 3. the summary: the check on customers instead of the history; the hybrid history read
    hybrid_summary = with_hybrid("customer_segments_summary")
    previous_summary = sqlfiles.expand((history.PREVIOUS_SQL / "customer_segments_summary.sql").read_text(encoding="utf-8"))
    newest_on_customers = "SELECT if(count() = 0, NULL, max(timestamp)) AS newest FROM customers"

    def summary_with(p, at_sql: str, label: str):
        newest = _previous_query_df(client, "proposed/newest_on_customers", newest_on_customers, {}, True)["newest"].iloc[0]
        if pd.isna(newest) or newest <= p["as_of"]:
            return db.query_df(client, "customer_segments_summary", p)
        return _previous_query_df(client, f"proposed/customer_segments_summary@{label}", at_sql, p, False)

    summary = {}
    current_at_sql = sqlfiles.load("customer_segments_summary@as_of")
    for label, at in as_ofs:
        p = queries._segment_filters(w.location, w.min_age, w.max_age, at, w.rules)
        ways = {"previous (de188e5; the latest profiles whatever the as_of)":
                lambda _i, p=p: _previous_query_df(client, "previous/customer_segments_summary", previous_summary, p, False),
                "segwork now: check, then customers FINAL or every customer's versions":
                lambda _i, at=at: segwork.customer_segments_summary(client, w.location, w.min_age, w.max_age, as_of=at),
                SUMMARY_CHECK: lambda _i, p=p: summary_with(p, current_at_sql, "as_of"),
                SUMMARY_HYBRID: lambda _i, p=p: summary_with(p, hybrid_summary, "hybrid")}
        names = list(ways)
        answers = {"segwork": ways[names[1]](0), "check": ways[SUMMARY_CHECK](0), "hybrid": ways[SUMMARY_HYBRID](0)}
        if at == as_of:
            answers["previous"] = ways[names[0]](0)
        problems += [f"summary {label}: {d}" for d in agree.differences("summary", answers)]
        summary[label] = interleaved(ways, n(40 if at == as_of else 15), warmup=2)
        print(f"summary {label}: " + "  ".join(f"{k[:20]} {s.median_ms:.1f} ms" for k, s in summary[label].items()), flush=True)

    # 4. the check's cost inside the engine
    checks = {"SELECT 1 (any query)": "SELECT 1",
              "newest_profile_version (max(timestamp) of customer_history, segwork now)": sqlfiles.load("newest_profile_version"),
              "max(timestamp) of customers (proposed)": newest_on_customers,
              "count() of customer_history WHERE timestamp > as_of": "SELECT count() FROM customer_history WHERE timestamp > "
                                                                    "{as_of:DateTime('UTC')}"}
    index = {}
    for k, sql in checks.items():
        t = []
        for i in range(-2, n(60)):
            raw.run(raw.bind_text(sql, {"as_of": params.timestamp("as_of", as_of)} if "{as_of" in sql else {}))
            if i >= 0:
                t.append(raw.elapsed[-1] * 1000)
        index[k] = float(statistics.median(t))
    print(f"checks: {index}", flush=True)
    raw.close()
    load_end = open("/proc/loadavg").read().split()[:3]
    OUT.write_text(render(ds, sizes, steps, reads, lookup, summary, index, problems, load_start, load_end))
    print(f"wrote {OUT}", "; DISAGREE: " + "; ".join(problems) if problems else "")
    return 1 if problems else 0


def _cell(s) -> str:
    return f"{s.median_ms:.2f} [{s.min_ms:.1f} - {s.max_ms:.1f}]"


def render(ds, sizes, steps, reads, lookup, summary, index, problems, load_start, load_end) -> str:
    from bench.report import machine

    m = machine("")
    out = ["# History queries: segwork's SQL against the proposed changes", "",
           f"Written by `python -m bench.history_fixes --size {ds.size}` ({ds.customers:,} customers, their profile "
           f"versions in customer_history), {m['date']}, commit {m['commit']}; {m['cores']} cores shared with other "
           f"work: load average {' '.join(load_start)} at start, {' '.join(load_end)} at end. Milliseconds, median "
           "[min - max] of interleaved runs. The proposed SQL is in bench/proposed/; segwork/ is unchanged.", "",
           "Answers: " + ("the proposed queries give the same answers as segwork's (every row), here and on a small "
                          "history with what this data lacks (several versions a day, deletions, a customer re-created, "
                          "changed signup dates; every `every`, filters, 7 as_of values: `tricky_history`)"
                          if not problems else "**DISAGREE**: " + "; ".join(problems)) + ".", "",
           "## 1. segment_sizes_over_time (the engine's own time)", "",
           "Proposed: bench/proposed/segment_sizes_over_time.sql. Also timed: segwork's SQL with its two "
           "twice-named CTEs marked MATERIALIZED, the smallest change.", "",
           f"| range | rows | segwork/sql | proposed | {MATERIALIZED} | segwork / proposed | segwork / materialized |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for label, (stats, rows) in sizes.items():
        a, b = stats["segwork/sql"], stats["proposed"]
        c = stats[MATERIALIZED]
        out.append(f"| {label} | {rows:,} | {_cell(a)} | {_cell(b)} | {_cell(c)} | {a.median_ms / b.median_ms:.1f}x "
                   f"| {a.median_ms / c.median_ms:.1f}x |")
    out += ["", "Where the time goes (a year, every day; the SQL cut short after each step, median ms; each step "
                "includes those before it):", "", "| step | ms |", "|---|---:|"]
    out += [f"| {k} | {v:.0f} |" for k, v in steps.items()]
    out += ["", f"Reads of customer_history in EXPLAIN PLAN: segwork/sql {reads['segwork/sql']}, proposed "
                f"{reads['proposed']}. ClickHouse writes a WITH subquery out again wherever it is "
                "named: `pieces` is named twice (the +1 and the -1 of UNION ALL) and `changes` twice (the list of "
                "segments and the LEFT JOIN), so the history is read and grouped per customer four times. The proposed "
                "SQL names each step once, finds each version's end with a window over the table's order "
                "(leadInFrame) instead of an array per customer, and reads each segment's running sum at every day "
                "from one array per segment instead of a days x segments join with a window.", "",
            "## 2. The lookup (one customer a round; interleaved rounds per as_of)", "",
            "Proposed A: bench/proposed/customer_segment_lookup.sql (the row of customers FINAL comes back also when it "
            "is newer than as_of) and in queries.customer_segment_lookup: if the row's profile_updated_at is after "
            "as_of, run \"customer_segment_lookup@as_of\" (the history); otherwise it is the answer. No check first.", "",
            "| way | " + " | ".join(lookup) + " |", "|---|" + "---:|" * len(lookup)]
    for way in next(iter(lookup.values())):
        out.append(f"| {way} | " + " | ".join(_cell(lookup[label][way]) for label in lookup) + " |")
    out += ["", "Against the previous commit at each as_of: " + "; ".join(
        f"{label}: " + ", ".join(f"{k.split(':')[0]} {st.median_ms / by[next(iter(by))].median_ms:.2f}x"
                                 for k, st in by.items() if not k.startswith(("previous", "the check")))
        for label, by in lookup.items()) + ".", "",
            "## 3. The summary (New York, ages 25..45)", "",
            "Proposed C: the check reads max(timestamp) of customers instead of customer_history (the same answer: "
            "customers holds each customer's latest version); B: when a version is newer, the hybrid "
            "bench/proposed/latest_versions_at.sql (customers FINAL for those with no later version, the history "
            "only for the others) instead of every customer's versions.", "",
            "| way | " + " | ".join(summary) + " |", "|---|" + "---:|" * len(summary)]
    for way in next(iter(summary.values())):
        out.append(f"| {way} | " + " | ".join(_cell(summary[label][way]) for label in summary) + " |")
    out += ["", "Against the previous commit at each as_of: " + "; ".join(
        f"{label}: " + ", ".join(f"{k.split(':')[0]} {st.median_ms / by[next(iter(by))].median_ms:.2f}x"
                                 for k, st in by.items() if not k.startswith("previous"))
        for label, by in summary.items()) + ".", "",
            "## 4. The check for a newer version, inside the engine (median ms)", "",
            "Any query on a MergeTree table costs more than `SELECT 1` here; `max(timestamp)` of customer_history "
            "reads the column of every part, customers' is one forced-merged part.", "", "| query | ms |", "|---|---:|"]
    out += [f"| {k} | {v:.2f} |" for k, v in index.items()]
    out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
