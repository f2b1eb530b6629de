"""The targets of issue 6 (set for size M on the 2-core machine), judged on one run's figures."""
from __future__ import annotations

QUERIES = ("lookup", "engagement", "summary")

# Why a target is missed when it is, from measurements (see README "Performance"); shown
# next to a missed target. Keys are target ids.
WHY: dict[str, str] = {}


def judge(results: dict) -> list[dict]:
    """Every target with its goal, the measured value, met or not, and the shortfall."""
    q = results["queries"]
    out = [_at_most("lookup_ms", "customer_segment_lookup median", q["lookup"]["segwork"]["median_ms"], 5.0, "ms")]
    for query, vs, goal in (("lookup", "duckdb", 1.0), ("engagement", "duckdb", 3.0), ("engagement", "pandas", 20.0),
                            ("summary", "duckdb", 5.0), ("summary", "pandas", 20.0)):
        ratio = q[query][vs]["median_ms"] / q[query]["segwork"]["median_ms"]
        out.append(_at_least(f"{query}_vs_{vs}", f"{query}: {vs} time / segwork time", ratio, goal, "x"))
    for query in QUERIES:
        ratio = q[query]["segwork"]["median_ms"] / q[query]["engine"]["median_ms"]
        out.append(_at_most(f"{query}_layer", f"{query}: segwork time / bare engine time", ratio, 1.3, "x"))
    ingest = results.get("ingest")
    if ingest:
        out.append(_at_least("parquet_rate", "validated ingestion from Parquet", ingest["parquet"]["segwork"]["rows_per_s"] / 1e6,
                             1.0, "M events/s"))
        for fmt in ("parquet", "csv"):
            share = ingest[fmt]["segwork"]["rows_per_s"] / ingest[fmt]["engine"]["rows_per_s"]
            out.append(_at_least(f"{fmt}_vs_engine", f"{fmt.upper()}: segwork rate / engine's own file load", share * 100, 50.0, "%"))
    memory = results.get("memory")
    if memory:
        for fmt, by_rows in memory.items():
            small, large = (by_rows[k]["peak_rss_mb"] for k in sorted(by_rows, key=int))
            out.append(_below(f"{fmt}_memory", f"{fmt.upper()}: peak RSS growth for a 10x larger file", (large / small - 1) * 100, 20.0, "%"))
    return out


def _target(tid, text, value, goal, unit, met, shortfall) -> dict:
    return {"id": tid, "text": text, "value": value, "goal": goal, "unit": unit, "met": met,
            "shortfall": None if met else shortfall, "why": None if met else WHY.get(tid, "not analysed yet")}


def _at_most(tid, text, value, goal, unit) -> dict:
    return _target(tid, text, value, goal, unit, value <= goal, f"{value / goal - 1:.0%} over")


def _below(tid, text, value, goal, unit) -> dict:
    return _target(tid, text, value, goal, unit, value < goal, f"{value - goal:.0f} points over")


def _at_least(tid, text, value, goal, unit) -> dict:
    return _target(tid, text, value, goal, unit, value >= goal, f"{1 - value / goal:.0%} short")
