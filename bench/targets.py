"""The targets of issue 6 and issue 13 (set for size M on the 2-core machine), judged on one
run's figures (each part's figures come from one run: bench/report.py, `--only`)."""
from __future__ import annotations

from segwork.config import Settings

from bench import anatomy

QUERIES = ("lookup", "engagement", "summary")
SIZES_DAILY_S = 3.0  # issue 13: "a year of daily points for the 9 built-in segments at size M in a few seconds at most"
NO_REGRESSION = 1.10  # issue 13: the current-state lookup and summary no more than 10 % slower than before history

def judge(results: dict) -> list[dict]:
    """Every target with its goal, the measured value, met or not, and the shortfall."""
    out = _queries(results["queries"]) if results.get("queries") else []
    out += _history(results.get("history"))
    out += _ingestion(results)
    for t in out:
        if not t["met"]:
            t["why"] = why(t["id"], results)
    return out


def _queries(q: dict) -> list[dict]:
    out = [_at_most("lookup_ms", "customer_segment_lookup median", q["lookup"]["segwork"]["median_ms"], 5.0, "ms")]
    for query, vs, goal in (("lookup", "duckdb", 1.0), ("engagement", "duckdb", 3.0), ("engagement", "pandas", 20.0),
                            ("summary", "duckdb", 5.0), ("summary", "pandas", 20.0)):
        if vs not in q[query]:  # a contender left out at this size (bench/__main__.py CONTENDERS)
            continue
        ratio = q[query][vs]["median_ms"] / q[query]["segwork"]["median_ms"]
        out.append(_at_least(f"{query}_vs_{vs}", f"{query}: {vs} time / segwork time", ratio, goal, "x"))
    for query in QUERIES:
        ratio = q[query]["segwork"]["median_ms"] / q[query]["engine"]["median_ms"]
        out.append(_at_most(f"{query}_layer", f"{query}: segwork time / bare engine time", ratio, 1.3, "x"))
    return out


def _history(h: dict | None) -> list[dict]:
    if not h:
        return []
    out = [_at_most("sizes_daily_s", f"segment sizes, a year of daily points ({h['sizes']['day']['points']} x 9 segments)",
                    h["sizes"]["day"]["segwork"]["median_ms"] / 1000, SIZES_DAILY_S, "s")]
    for query in ("lookup", "summary"):
        by = h["previous"]["figures"][query]
        previous, now = list(by)[:2]
        out.append(_at_most(f"{query}_vs_previous", f"current-state {query}: this segwork (as_of given) / the commit "
                                                     f"before history", by[now]["median_ms"] / by[previous]["median_ms"],
                            NO_REGRESSION, "x"))
    return out


def _ingestion(results: dict) -> list[dict]:
    out = []
    ingest = results.get("ingest")
    if ingest:
        out.append(_at_least("parquet_rate", "validated ingestion from Parquet", ingest["parquet"]["segwork"]["rows_per_s"] / 1e6,
                             1.0, "M events/s"))
        for fmt in ("parquet", "csv"):
            share = ingest[fmt]["segwork"]["rows_per_s"] / ingest[fmt]["engine"]["rows_per_s"]
            out.append(_at_least(f"{fmt}_vs_engine", f"{fmt.upper()}: segwork rate / engine's own file load", share * 100, 50.0, "%"))
    for step in memory_steps(results.get("memory") or {}):
        fmt, small, large = step["format"], step["rows"], step["rows_10x"]
        out.append(_below(_memory_id(fmt, small, results), f"{fmt.upper()}: peak RSS growth, {small:,} -> {large:,} rows",
                          step["growth"]["segwork"], 20.0, "%"))
    return out


def memory_steps(memory: dict) -> list[dict]:
    """Each pair of memory probes 10x apart: format, rows, rows_10x, the probes of both files
    (small, large: {way: probe}) and growth ({way: peak RSS growth in %})."""
    steps = []
    for fmt, by_rows in memory.items():
        keys = sorted(by_rows, key=int)
        for small, large in zip(keys, keys[1:]):
            growth = {w: (by_rows[large][w]["peak_rss_mb"] / by_rows[small][w]["peak_rss_mb"] - 1) * 100
                      for w in by_rows[small]}
            steps.append({"format": fmt, "rows": int(small), "rows_10x": int(large), "growth": growth,
                          "small": by_rows[small], "large": by_rows[large]})
    return steps


def _memory_id(fmt: str, small: int, results: dict) -> str:
    """parquet_memory for the suite's own pair (ingestion file / 10 -> ingestion file), else
    parquet_memory_<rows of the smaller file>."""
    return f"{fmt}_memory" + ("" if small * 10 == results["ingest_rows"] else f"_{small}")


def _target(tid, text, value, goal, unit, met, shortfall, sign) -> dict:
    return {"id": tid, "text": text, "value": value, "goal": goal, "unit": unit, "met": met,
            "shortfall": None if met else shortfall, "why": None, "sign": sign}


def _at_most(tid, text, value, goal, unit) -> dict:
    return _target(tid, text, value, goal, unit, value <= goal, f"{value / goal - 1:.0%} over", "<=")


def _below(tid, text, value, goal, unit) -> dict:
    return _target(tid, text, value, goal, unit, value < goal, f"{value - goal:.0f} points over", "<")


def _at_least(tid, text, value, goal, unit) -> dict:
    return _target(tid, text, value, goal, unit, value >= goal, f"{1 - value / goal:.0%} short", ">=")


def why(tid: str, r: dict) -> str:
    """Why a missed target is missed, in the run's own figures (bench/anatomy.py)."""
    if tid == "sizes_daily_s" or tid.endswith("_vs_previous"):
        return _why_history(tid, r["history"])
    a = r.get("anatomy") or {}
    q = r.get("queries") or {}
    ms = (a.get("queries") or {}).get("ms", {})
    med = {query: {way: q[query][way]["median_ms"] for way in q[query]} for query in q}
    if tid in ("lookup_ms", "lookup_vs_duckdb") and ms:
        text = (f"the SQL alone takes {q['lookup']['engine']['internal_ms']:.1f} ms inside the engine and "
                f"{med['lookup']['engine']:.1f} ms to a DataFrame on a bare handle; step by step, any query costs "
                f"{ms[anatomy.TRIVIAL]:.1f} ms here, one profile's columns with FINAL {ms[anatomy.LOOKUP_COLUMNS]:.1f} ms, "
                f"the full SQL with the segment rules {ms[anatomy.LOOKUP_FULL]:.1f} ms; segwork's layer adds "
                f"{med['lookup']['segwork'] - med['lookup']['engine']:.1f} ms")
        if tid == "lookup_vs_duckdb":
            text = f"DuckDB answers from a table held in memory in {med['lookup']['duckdb']:.1f} ms; " + text
        return text
    if tid.startswith("engagement_vs") and ms:
        aq = a["queries"]
        return (f"{ms[anatomy.TOP]:.0f} of the engine's {q['engagement']['engine']['internal_ms']:.0f} ms is the aggregate "
                f"itself: {aq['window_rows']:,} events grouped by {aq['window_customers']:,} distinct String ids (scanning "
                f"them: {ms[anatomy.SCAN]:.0f} ms; counting the distinct ids alone: {ms[anatomy.GROUPS]:.0f} ms). With "
                f"{aq['window_rows'] / aq['window_customers']:.1f} events per customer in the window, a per-customer "
                f"pre-aggregate could not shrink it much. {_other(tid)} needs {med['engagement'][_other(tid)]:.0f} ms "
                "for the same answer")
    if tid.endswith("_layer") and tid.split("_")[0] in med:
        query = tid.split("_")[0]
        text = (f"segwork's layer adds {med[query]['segwork'] - med[query]['engine']:.1f} ms a call to the bare engine's "
                f"{med[query]['engine']:.1f} ms: the parameters checked and bound on every call (the bare engine binds "
                "them once), and the answer made into clickhouse-connect's dtypes")
        if query != "lookup":
            text += "; with an as_of, one more engine call first, to see whether a stored profile version is newer"
            text += f" (any query costs {ms[anatomy.TRIVIAL]:.1f} ms here)" if ms else ""
        return text + "; measured interleaved with the other contenders, as every figure here"
    if tid.startswith("summary_vs"):
        return (f"the engine reads all {r['customer_rows']:,} profile rows with FINAL (the latest version of each) and "
                f"applies both segment rules in {q['summary']['engine']['internal_ms']:.0f} ms; {_other(tid)} filters "
                f"its in-memory table in {med['summary'][_other(tid)]:.0f} ms")
    ing = a.get("ingestion")
    if tid in ("parquet_rate", "parquet_vs_engine", "csv_vs_engine") and ing:
        st = ing["python_stages_s"]
        cores = r["machine"]["cores"]
        return (f"inserting the validated rows alone (content hash and the engine's write: sorting, compressing, one "
                f"part per month an insert touches) takes {ing['engine_insert_s']:.2f} s for {ing['rows'] / 1e6:g} M events "
                f"({ing['rows'] / ing['engine_insert_s'] / 1e6:.2f} M/s), and Python's reading, typing, validation and "
                f"Arrow conversion {ing['python_total_s']:.2f} s on one core ("
                + ", ".join(f"{k} {v:.2f}" for k, v in st.items()) +
                f"); on {cores} cores, with the engine using them too, the two overlap only in part")
    for step in memory_steps(r.get("memory") or {}):
        if _memory_id(step["format"], step["rows"], r) != tid:
            continue
        g = step["growth"]
        text = (f"{step['rows']:,} -> {step['rows_10x']:,} rows: {g['segwork']:+.0f} % (the engine's own load of the "
                f"same files: {g['engine']:+.0f} %)")
        live = [(p["segwork"].get("arrow_peak_mb"), p["segwork"].get("engine_tracked_peak_mb"))
                for p in (step["small"], step["large"])]
        if None not in live[0] + live[1]:
            text += (f"; live data at the peaks: Arrow {live[0][0]:.0f} -> {live[1][0]:.0f} MB, engine "
                     f"{live[0][1]:.0f} -> {live[1][1]:.0f} MB")
        if step["rows"] < Settings().insert_rows:
            text += ("; inserts grow with the file up to SEGWORK_INSERT_ROWS, and one is gathered while the previous "
                     "one is written: the smaller file's inserts stay small")
        else:
            text += "; both files are past that plateau: the rest of the growth is the engine's, over the longer ingest"
        return text
    return "not analysed"


def _why_history(tid: str, h: dict) -> str:
    """Why a history target is missed, from the history part's own figures (bench/history.py)."""
    if tid == "sizes_daily_s":
        day = h["sizes"]["day"]
        text = (f"the engine alone needs {day['engine']['internal_ms'] / 1000:.1f} s of it (DuckDB, the same sweep: "
                f"{day['duckdb']['median_ms'] / 1000:.1f} s)")
        return text
    query = tid.removesuffix("_vs_previous")
    f = h["previous"]["figures"][query]
    names = list(f)
    check = h["previous"]["figures"].get("check")
    text = ("with as_of given segwork runs two queries: the check for a version newer than as_of "
            + (f"({check['median_ms']:.1f} ms alone) " if check else "")
            + f"and the {query}; without as_of (no check) it takes {f[names[2]]['median_ms']:.1f} ms, "
            f"{f[names[2]]['median_ms'] / f[names[0]]['median_ms']:.2f}x the previous commit's")
    return text


def _other(tid: str) -> str:
    return tid.rsplit("_", 1)[1]
