"""The history part (issue 13): segments through time and queries at a past as_of, at the
benchmark's size, against pandas and DuckDB on the same profile versions; and the current-state
lookup and summary of this segwork against the previous commit's (de188e5: `customers FINAL`,
no `NOT is_deleted`, no check for a newer version), interleaved on the same data.

Each figure is the median (and range) of interleaved rounds; answers are compared first.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

import segwork
from segwork import db, embedded, params, queries, sqlfiles, through_time

from bench import agree
from bench.baselines import DuckHistory, PandasHistory, grid
from bench.data import END, Dataset
from bench.engine import RawEngine
from bench.timing import interleaved
from bench.workload import Workload

PREVIOUS = "de188e5"  # the commit before profile history (issue 13)
PREVIOUS_SQL = Path(__file__).resolve().parent / "previous"  # its lookup and summary SQL, as they were
END_DAY = pd.Timestamp(END).date()  # the data's last day: segment sizes and transitions end there
PAST = pd.Timestamp(END, tz="UTC") - pd.DateOffset(months=6)  # the past as_of: 2026-05-01
RANGES = {"day": ((pd.Timestamp(END) - pd.Timedelta(days=364)).date(), END_DAY),  # 365 daily points
          "month": ((pd.Timestamp(END) - pd.Timedelta(days=364)).date(), END_DAY)}  # 12 month ends + the last day
PAIRS = {"month": ((pd.Timestamp(END) - pd.DateOffset(months=1)).date(), END_DAY),
         "year": ((pd.Timestamp(END) - pd.DateOffset(years=1)).date(), END_DAY)}
CHECK_DAYS = 4  # points of each size series checked against pandas' snapshot at that day
AT_END = pd.Timestamp(END, tz="UTC")  # as_of = END: 11 profiles at size M are newer (bench/workload.py)
ROUNDS = {"S": {"sizes": 7, "transitions": 7, "as_of_summary": 20, "as_of_lookup": 100, "previous_summary": 60,
                "previous_lookup": 300},
          "M": {"sizes": 5, "transitions": 5, "as_of_summary": 15, "as_of_lookup": 100, "previous_summary": 60,
                "previous_lookup": 300},
          "L": {"sizes": 3, "transitions": 3, "as_of_summary": 10, "as_of_lookup": 100, "previous_summary": 30,
                "previous_lookup": 300}}


def run(client, database: str, ds: Dataset, w: Workload, versions: pd.DataFrame, rounds: dict, log=print) -> dict:
    """Every history figure of one run: {section: {question: {contender: stats}}, checks, problems}."""
    rules = w.rules
    pandas_way = PandasHistory(versions, rules)
    duck = DuckHistory(ds.customers_parquet, rules, threads=len(os.sched_getaffinity(0)))
    raw = RawEngine(database)
    out: dict = {"past": str(PAST.date()), "ranges": {k: [str(a), str(b)] for k, (a, b) in RANGES.items()},
                 "pairs": {k: [str(a), str(b)] for k, (a, b) in PAIRS.items()}, "problems": [], "checked": []}
    try:
        out["sizes"] = _sizes(client, raw, pandas_way, duck, w, rounds["sizes"], out, log)
        out["transitions"] = _transitions(client, raw, pandas_way, duck, w, rounds["transitions"], out, log)
        out["as_of"] = _as_of(client, pandas_way, w, rounds, out, log)
    finally:
        duck.close()
        raw.close()
    out["previous"] = previous_vs_now(client, w, rounds, log)
    return out


def _sizes(client, raw, pandas_way, duck, w, rounds, out, log) -> dict:
    figures = {}
    for every, (first, last) in RANGES.items():
        p = through_time.sizes_parameters(first, last, every=every, location=None, min_age=None, max_age=None,
                                                   rules=w.rules)
        bound = raw.bind("segment_sizes_over_time", p)
        ways = {
            "segwork": lambda _i: through_time.segment_sizes(client, first, last, every=every, rules=w.rules),
            "engine": lambda _i: raw.run(bound),
            "duckdb": lambda _i: duck.sweep_sizes(first, last, every),
            "pandas": lambda _i: pandas_way.sweep_sizes(first, last, every),
        }
        answers = {name: fn(0) for name, fn in ways.items()}
        answers["engine"] = _engine_grid(answers["engine"])
        _compare_sizes(every, answers, pandas_way, out)
        if every == "month":  # a notebook's way: the profiles at every point, one after another
            ways["pandas, a snapshot per point"] = lambda _i: pandas_way.snapshot_sizes(first, last, every)
            _compare_frames(f"sizes ({every})", answers["segwork"], ways["pandas, a snapshot per point"](0),
                            ["day", "value_segment", "loyalty_segment", "customers"], out, "pandas, a snapshot per point")
        raw.elapsed.clear()
        stats = interleaved(ways, rounds, warmup=1)
        figures[every] = {n: s.as_dict() for n, s in stats.items()}
        figures[every]["engine"]["internal_ms"] = float(np.median(raw.elapsed[-rounds:])) * 1000
        figures[every]["points"] = int(answers["segwork"]["day"].nunique())
        log(f"  sizes, every {every:<5} " + "  ".join(f"{n} {s.median_ms:8.0f} ms" for n, s in stats.items()))
    return figures


def _engine_grid(found: pd.DataFrame) -> pd.DataFrame:
    found = found.copy()
    found["day"] = pd.to_datetime(found["day"]).dt.date
    return grid(found)


def _compare_sizes(every: str, answers: dict, pandas_way: PandasHistory, out: dict) -> None:
    ref = answers["segwork"]
    keys = ["day", "value_segment", "loyalty_segment", "customers"]
    for name, frame in answers.items():
        if name != "segwork":
            _compare_frames(f"sizes ({every})", ref, frame, keys, out, name)
    days = sorted(ref["day"].unique())
    picks = [days[int(i)] for i in np.linspace(0, len(days) - 1, CHECK_DAYS)]
    for day in picks:
        want = pandas_way.sizes_at(day)
        got = ref[ref["day"] == day].set_index(["value_segment", "loyalty_segment"])["customers"]
        want = want.reindex(got.index, fill_value=0)
        if (got != want).any() or want.sum() != got.sum():
            out["problems"].append(f"sizes ({every}) at {day}: segwork {got.to_dict()} vs pandas snapshot {want.to_dict()}")
    out["checked"].append(f"sizes every {every}: all {len(days)} points x 9 segments, 4 ways alike; "
                          f"{CHECK_DAYS} points ({', '.join(str(d) for d in picks)}) against pandas' profiles at that day")


def _compare_frames(what: str, ref: pd.DataFrame, got: pd.DataFrame, keys: list[str], out: dict, name: str) -> None:
    a = ref[keys].reset_index(drop=True)
    b = got[keys].reset_index(drop=True)
    a["day"], b["day"] = a["day"].astype(str), b["day"].astype(str)
    if len(a) != len(b):
        out["problems"].append(f"{what}: {name} gave {len(b)} rows, segwork {len(a)}")
        return
    diff = (a.astype(str) != b.astype(str)).any(axis=1)
    if diff.any():
        i = int(np.flatnonzero(diff.to_numpy())[0])
        out["problems"].append(f"{what}: row {i} differs: {name} {tuple(b.iloc[i])} vs segwork {tuple(a.iloc[i])}")


def _transitions(client, raw, pandas_way, duck, w, rounds, out, log) -> dict:
    figures = {}
    for label, (a, b) in PAIRS.items():
        p, _ = through_time._moves_parameters(a, b, "segment", w.rules)
        bound = raw.bind("segment_transitions", p)
        ways = {
            "segwork": lambda _i: through_time.transitions(client, a, b, rules=w.rules),
            "engine": lambda _i: raw.run(bound),
            "duckdb": lambda _i: duck.transitions(a, b),
            "pandas": lambda _i: pandas_way.transitions(a, b),
        }
        answers = {name: fn(0) for name, fn in ways.items()}
        ref = _flows(answers["segwork"])
        for name in ("engine", "duckdb", "pandas"):
            got = _flows(answers[name])
            if not ref.equals(got.reindex(ref.index, fill_value=0)) or got.sum() != ref.sum():
                out["problems"].append(f"transitions ({label}): {name} differs from segwork: "
                                       f"{(got.reindex(ref.index, fill_value=0) - ref).loc[lambda s: s != 0].to_dict()}")
        out["checked"].append(f"transitions {a} -> {b}: customers per (from, to) of all 4 ways "
                              f"({len(ref)} flows, {int(ref.sum()):,} customers)")
        raw.elapsed.clear()
        stats = interleaved(ways, rounds, warmup=1)
        figures[label] = {n: s.as_dict() for n, s in stats.items()}
        figures[label]["engine"]["internal_ms"] = float(np.median(raw.elapsed[-rounds:])) * 1000
        figures[label]["flows"] = len(ref)
        log(f"  transitions, {label:<5} " + "  ".join(f"{n} {s.median_ms:8.0f} ms" for n, s in stats.items()))
    return figures


def _flows(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby(["from_state", "to_state"])["customers"].sum().astype("int64").sort_index()


def _as_of(client, pandas_way, w, rounds, out, log) -> dict:
    """The summary and the lookup at a past as_of (from the history) and at END (the latest profiles)."""
    now = w.as_of
    figures = {}
    s = {"past": lambda: segwork.customer_segments_summary(client, w.location, w.min_age, w.max_age, as_of=PAST, rules=w.rules),
         "current": lambda: segwork.customer_segments_summary(client, w.location, w.min_age, w.max_age, as_of=now, rules=w.rules)}
    for when, at in (("past", PAST), ("current", now)):
        out["problems"] += agree.differences("summary", {"segwork": s[when](),
                                                         "pandas": pandas_way.summary_at(at, w.location, w.min_age, w.max_age)})
    ways = {"segwork, as_of 6 months back": lambda _i: s["past"](), "segwork, as_of now (current)": lambda _i: s["current"](),
            "pandas, as_of 6 months back": lambda _i: pandas_way.summary_at(PAST, w.location, w.min_age, w.max_age)}
    stats = interleaved(ways, rounds["as_of_summary"], warmup=2)
    figures["summary"] = {n: st.as_dict() for n, st in stats.items()}
    log("  summary  " + "  ".join(f"{n} {st.median_ms:7.1f} ms" for n, st in stats.items()))

    def lookup(at):
        return lambda i: segwork.customer_segment_lookup(client, w.lookup_id(i), as_of=at, rules=w.rules)

    checked = 0
    for i in range(min(50, len(w.lookup_ids))):
        for at in (PAST, now):
            answers = {"segwork": lookup(at)(i), "pandas": pandas_way.lookup_at(w.lookup_id(i), at)}
            if len(answers["segwork"]) == 0 and len(answers["pandas"]) == 0:
                continue
            out["problems"] += agree.differences("lookup", answers)
            checked += 1
    out["checked"].append(f"summary at {PAST.date()} and at {now.date()}, {checked} lookups at both: segwork and pandas alike")
    ways = {"segwork, as_of 6 months back": lookup(PAST), "segwork, as_of now (current)": lookup(now)}
    stats = interleaved(ways, rounds["as_of_lookup"], warmup=2)
    figures["lookup"] = {n: st.as_dict() for n, st in stats.items()}
    log("  lookup   " + "  ".join(f"{n} {st.median_ms:7.1f} ms" for n, st in stats.items()))
    return figures


def previous_vs_now(client, w: Workload, rounds: dict, log=print) -> dict:
    """The current-state lookup and summary: the previous commit's SQL through the previous
    query path (checked parameters, db.query_df's embedded Arrow path) vs this segwork's call
    with as_of (a check for a newer version, then customers FINAL ... NOT is_deleted), without
    one (no check), and with as_of = END, when 11 profiles are newer (the history's path),
    interleaved. The previous SQL's cost does not depend on as_of."""
    as_of = w.as_of

    def old(name, p, utc):
        sql = sqlfiles.expand((PREVIOUS_SQL / f"{name}.sql").read_text(encoding="utf-8"))
        return _previous_query_df(client, f"previous/{name}", sql, p, utc)

    def old_lookup(i):
        p = {"customer_id": params.text("customer_id", w.lookup_id(i), required=True),
             "as_of": params.timestamp("as_of", as_of), **w.rules.sql_parameters()}
        return old("customer_segment_lookup", p, True)

    def old_summary(_i):
        p = queries._segment_filters(w.location, w.min_age, w.max_age, as_of, w.rules)
        return old("customer_segments_summary", p, False)

    figures = {}
    problems = []
    for i in range(20):
        problems += agree.differences("lookup", {"segwork": segwork.customer_segment_lookup(client, w.lookup_id(i), as_of=as_of),
                                                 "previous": old_lookup(i)})
    problems += agree.differences("summary", {"segwork": segwork.customer_segments_summary(
        client, w.location, w.min_age, w.max_age, as_of=as_of), "previous": old_summary(0)})
    for query, prev, with_as_of, without, at_end in (
            ("lookup", old_lookup,
             lambda i: segwork.customer_segment_lookup(client, w.lookup_id(i), as_of=as_of, rules=w.rules),
             lambda i: segwork.customer_segment_lookup(client, w.lookup_id(i), rules=w.rules),
             lambda i: segwork.customer_segment_lookup(client, w.lookup_id(i), as_of=AT_END, rules=w.rules)),
            ("summary", old_summary,
             lambda _i: segwork.customer_segments_summary(client, w.location, w.min_age, w.max_age, as_of=as_of, rules=w.rules),
             lambda _i: segwork.customer_segments_summary(client, w.location, w.min_age, w.max_age, rules=w.rules),
             lambda _i: segwork.customer_segments_summary(client, w.location, w.min_age, w.max_age, as_of=AT_END,
                                                          rules=w.rules))):
        ways = {f"previous ({PREVIOUS})": prev, "segwork, as_of now": with_as_of, "segwork, no as_of": without,
                "segwork, as_of END (11 newer versions)": at_end}
        if query == "lookup":  # the check for a newer version alone, as queries.exactly_at runs it
            ways["check"] = lambda _i: queries.needs_history(client, as_of, params.timestamp("as_of", as_of))
        stats = interleaved(ways, rounds[f"previous_{query}"], warmup=3)
        if "check" in stats:
            figures["check"] = stats.pop("check").as_dict()
        figures[query] = {n: st.as_dict() for n, st in stats.items()}
        log(f"  {query} now vs {PREVIOUS}  " + "  ".join(f"{n} {st.median_ms:6.2f} ms" for n, st in stats.items()))
    return {"figures": figures, "problems": problems, "checked": "20 lookups and the summary at END: previous and now alike"}


def _previous_query_df(client, name: str, sql: str, parameters: dict, utc: bool) -> pd.DataFrame:
    """db.query_df as it ran a query file at the previous commit (the embedded engine's path)."""
    limits = db.read_settings(client)
    if embedded.usable(client):
        df = embedded.query_df(client, name, sql, parameters, utc=utc, settings=limits)
        if df is not None:
            return df
    df = client.query_df(sql, parameters=parameters, settings=limits)
    return db._utc(df) if utc else df
