"""`python -m bench --size S|M|L [--only queries,history,ingest]`: generate (cached), load,
measure, check, write bench/RESULTS.md. Parts left out by --only are kept from this size's
stored run (bench/runs/<size>.json), each with the date and commit it ran at."""
from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time

import pandas as pd
import pyarrow.parquet as pq

from bench import agree, anatomy, data, engine, history, ingestion, report, targets
from bench.contenders import Engine, Segwork
from bench.duck import DuckDB
from bench.notebook import Pandas
from bench.timing import interleaved
from bench.workload import workload

ROUNDS = {"S": {"lookup": 200, "engagement": 30, "summary": 30},
          "M": {"lookup": 200, "engagement": 15, "summary": 20},
          "L": {"lookup": 200, "engagement": 10, "summary": 15}}
# At L no pandas: its frames and DuckDB's tables of the 100M events passed 21.6 GB RSS (of 23.5 GiB)
# while still loading, so the process was stopped before the machine ran out (2026-12-02).
CONTENDERS = {"L": ("segwork", "engine", "duckdb")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--size", choices=sorted(data.SIZES), default="S")
    ap.add_argument("--rounds", type=float, default=1.0, help="scale the number of timed rounds (default 1)")
    ap.add_argument("--reload", action="store_true", help="reload the query database even if it is current")
    ap.add_argument("--skip-ingest", action="store_true", help="no ingestion or memory figures (= --only queries,history)")
    ap.add_argument("--only", default=",".join(report.PARTS),
                    help=f"the parts to run, comma-separated ({', '.join(report.PARTS)}; default all); the others are "
                         "kept from the stored run of this size")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if args.skip_ingest:
        parts = [p for p in parts if p != "ingest"]
    unknown = sorted(set(parts) - set(report.PARTS))
    if unknown or not parts:
        ap.error(f"--only: {', '.join(unknown) or 'nothing'} is not a part; use some of {', '.join(report.PARTS)}")
    started = time.perf_counter()
    log(f"segwork benchmark, size {args.size}")
    ds = data.dataset(args.size, log=log)
    client, database, load = engine.loaded_client(ds, log=log, reload=args.reload)
    results = {"size": args.size, "customers": ds.customers, "events": ds.events, "ingest_rows": ds.ingest_rows,
               "machine": report.machine(client.command("SELECT version()")),
               "generated": (ds.folder / "done").read_text().strip(), "load": load,
               "customer_rows": pq.ParquetFile(ds.customers_parquet).metadata.num_rows}  # every profile version
    rounds = {q: max(3, int(n * args.rounds)) for q, n in ROUNDS[args.size].items()}
    w = workload(ds.customers, max(rounds["lookup"], history.ROUNDS[args.size]["previous_lookup"]))
    results["ran"] = {part: {"date": results["machine"]["date"], "commit": results["machine"]["commit"]} for part in parts}
    if "queries" in parts:
        run_queries(results, ds, client, database, w, rounds)
    if "history" in parts:
        log("  segments through time and queries at a past as_of (history) ...")
        versions = pd.read_parquet(ds.customers_parquet)  # the whole history: every profile version
        h_rounds = {k: max(3, int(n * args.rounds)) for k, n in history.ROUNDS[args.size].items()}
        results["history"] = history.run(client, database, ds, w, versions, h_rounds, log=log)
        for p in results["history"]["problems"] + results["history"]["previous"]["problems"]:
            log(f"  DISAGREE {p}")
        del versions
        gc.collect()
    if "ingest" in parts:
        log("  ingestion: segwork.ingest vs the engine's own file load ...")
        results["ingest"] = ingestion.rates(ds, rounds=3, log=log)
        log("  peak memory of ingestion ...")
        results["memory"] = ingestion.peak_memory(ds, log=log)
        log("  where the time goes: ingestion stages one by one ...")
        results.setdefault("anatomy", {})["ingestion"] = anatomy.ingestion(ds)
    results["load_average_end"] = open("/proc/loadavg").read().split()[:3]
    results = report.merged(results, parts)
    results["targets"] = targets.judge(results)
    path = report.save(results)
    log("")
    for t in results["targets"]:
        log(f"  {'met   ' if t['met'] else 'MISSED'}  {t['text']}: {t['value']:.2f} {t['unit']} (goal {t['goal']:g})")
    log(f"wrote {path.relative_to(path.parent.parent)} in {time.perf_counter() - started:.0f} s")
    h = results.get("history") or {}
    problems = results.get("agreement", {}).get("problems", []) + h.get("problems", []) + h.get("previous", {}).get("problems", [])
    return 1 if problems else 0


def run_queries(results: dict, ds, client, database: str, w, rounds: dict) -> None:
    """The three queries: segwork, the bare engine, DuckDB and pandas (CONTENDERS), interleaved."""
    names = CONTENDERS.get(ds.size, tuple(report.NAMES))
    ways = [Segwork(client, w), Engine(database, w)]
    if "duckdb" in names:
        log("  loading DuckDB ...")
        ways.append(DuckDB(ds, w, threads=len(os.sched_getaffinity(0))))
    if "pandas" in names:
        log("  reading frames for pandas ...")
        ways.append(Pandas(*data.load_frames(ds), w))
    results["agreement"] = check_answers(ways, w)
    for p in results["agreement"]["problems"]:
        log(f"  DISAGREE {p}")
    results["parts"] = engine.parts(client, database)
    results["queries"] = {}
    engine_way = ways[1]
    for query in targets.QUERIES:
        fns = {way.name: _call(way, query) for way in ways}
        engine_way.raw.elapsed.clear()
        stats = interleaved(fns, rounds[query])
        results["queries"][query] = {n: s.as_dict() for n, s in stats.items()}
        results["queries"][query]["engine"]["internal_ms"] = statistics.median(engine_way.raw.elapsed) * 1000
        log(f"  {query:<11}" + "  ".join(f"{n} {s.median_ms:8.2f} ms" for n, s in stats.items()))
    log("  where the time goes: stripped-down queries on the bare engine ...")
    results.setdefault("anatomy", {})["queries"] = anatomy.queries(database, w)
    for way in ways:
        getattr(way, "close", lambda: None)()
    del ways
    gc.collect()


def check_answers(ways, w) -> dict:
    """Compare every contender's answers with segwork's before anything is timed."""
    problems, lookups = [], min(50, len(w.lookup_ids))
    for i in range(lookups):
        problems += agree.differences("lookup", {way.name: way.lookup(i) for way in ways})
    for query in ("engagement", "summary"):
        problems += agree.differences(query, {way.name: getattr(way, query)() for way in ways})
    return {"problems": problems, "checked": f"{lookups} lookups, engagement top {w.limit}, summary"}


def _call(way, query: str):
    if query == "lookup":
        return way.lookup
    fn = getattr(way, query)
    return lambda _i: fn()


def log(line: str) -> None:
    print(line, flush=True)


if __name__ == "__main__":
    sys.exit(main())
