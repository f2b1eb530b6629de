"""Growth from size M to size L (issue 16): how each query's time grows against the rows it must
read, and the peak memory of ingesting L's whole 100M-event file against M's 30M-event one.

`python -m bench.growth` times segwork's three queries on M's and L's loaded databases in one
process, interleaved round by round (so the shared machine's load hits both sizes alike), and
measures the peak RSS of both files' ingest in fresh processes (bench.memprobe: segwork.ingest,
and the engine's own file load as the baseline); it stores them in bench/runs/growth.json and
writes bench/GROWTH.md from them and the stored query runs of M and L (`python -m bench --size M
--only queries`, then `--size L`: the rows each query reads, and each size's own run).
`--only queries|memory` measures one of the two (memory alone, without stored query runs, rewrites only
GROWTH.md's memory section); `--rounds N` probes each size N times; `--render` measures nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
from datetime import datetime, timezone

from bench import data, ingestion, report

GROWTH_MD = report.BENCH / "GROWTH.md"
STORED = report.RUNS / "growth.json"
FLAT = 1.2  # "lookup flat": at most 20 % slower at L (medians move 10-20 % from run to run here)
MEMORY_GOAL = 20.0  # %: the 100M-event ingest's peak RSS within 20 % of the 30M one
WAYS = ("segwork", "engine")
MEMORY_HEADING = "## Peak memory of ingesting the whole events file (Parquet), M -> L"


ROUNDS = {"lookup": 100, "engagement": 10, "summary": 15}


def _log(line: str) -> None:
    print(line, flush=True)


def _when() -> dict:
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": open("/proc/loadavg").read().split()[:3], "commit": report.machine("-")["commit"]}


def queries(log=None) -> dict:
    """segwork's medians of each query at M and at L, the two sizes interleaved round by round."""
    from bench import engine
    from bench.__main__ import _call
    from bench.contenders import Segwork
    from bench.timing import interleaved
    from bench.workload import workload

    log, out, ways = log or _log, _when(), {}
    for size in ("M", "L"):
        ds = data.dataset(size, log=log)
        client, _database, _load = engine.loaded_client(ds, log=log)
        ways[size] = Segwork(client, workload(ds.customers, ROUNDS["lookup"]))
    out["queries"] = {}
    for query, rounds in ROUNDS.items():
        stats = interleaved({size: _call(way, query) for size, way in ways.items()}, rounds)
        out["queries"][query] = {size: st.as_dict() for size, st in stats.items()}
        log(f"  {query:<11}" + "  ".join(f"{size} {st.median_ms:8.2f} ms" for size, st in stats.items()))
    out["load_average_end"] = open("/proc/loadavg").read().split()[:3]
    return out


def memory(log=None, ways: tuple[str, ...] = WAYS, rounds: int = 1) -> dict:
    """Peak RSS of loading M's and L's whole events file, each way in a fresh process, `rounds`
    times (M, L, M, L...: one peak moves by ~3 % from probe to probe here): segwork's probes first
    (the goal's), then the engine's own loads."""
    log, out = log or _log, {**_when(), "files": {}}
    for way in ways:
        for _ in range(rounds):
            for size in ("M", "L"):
                p = ingestion.probe(data.dataset(size, log=log).events_parquet, way)
                out["files"].setdefault(size, {}).setdefault(way, []).append(p)
                log(f"  {size} {p['rows']:,} events, {way}: peak RSS {p['peak_rss_mb']:.0f} MB in {p['seconds']:.0f} s")
    out["load_average_end"] = open("/proc/loadavg").read().split()[:3]
    return out


def _probes(by: dict, way: str) -> list[dict]:
    """A way's probes of one size (runs stored before --rounds hold one probe, not a list)."""
    got = by.get(way) or []
    return [got] if isinstance(got, dict) else got


def _median(probes: list[dict], key: str) -> float:
    return statistics.median(p[key] for p in probes)


def _mb(probes: list[dict], key: str) -> str:
    """Median MB of the probes, with the range when there are several."""
    values = [p[key] for p in probes]
    return f"{_median(probes, key):.0f} MB" + (f" ({min(values):.0f}-{max(values):.0f})" if len(values) > 1 else "")


def rows_read(r: dict) -> dict[str, tuple[int, str]]:
    """What each query must read at the run's size: (rows, what they are)."""
    a = r["anatomy"]["queries"]
    return {"lookup": (1, "one customer's profile"),
            "engagement": (a["window_rows"], "events in the window"),
            "summary": (r["customer_rows"], "profile rows, all read with FINAL")}


def render(runs: dict[str, dict], stored: dict) -> str:
    m, big = runs["M"], runs["L"]
    lines = ["# Growth from size M to size L", "",
             "Written by `python -m bench.growth` (issue 16) from the stored query runs of sizes M and L "
             "(`python -m bench --size M|L --only queries`) and its own memory probes; not typed by hand.", "",
             f"M: {m['customers']:,} customers, {m['events']:,} events; L: {big['customers']:,} customers, "
             f"{big['events']:,} events.", ""]
    for size, r in (("M", m), ("L", big)):
        q = report.ran(r)["queries"]
        lines.append(f"- {size} queries ran {q['date']}, commit {q['commit']}, load average at start "
                     f"{' '.join(r['machine']['load_average'])}, at end {' '.join(r.get('load_average_end', ['?']))}.")
    read_m, read_l = rows_read(m), rows_read(big)
    q = stored.get("queries")
    if q:
        lines += ["", "## Queries: segwork's median at M and at L, interleaved in one process", "",
                  f"Measured {q['date']}, commit {q['commit']}, load average at start {' '.join(q['load_average'])}, at end "
                  f"{' '.join(q['load_average_end'])}: each round calls the query once on M's database and once on L's "
                  "(same engine, alternating order), so the machine's load hits both alike. Goal: the engagement and "
                  f"summary times grow no faster than the rows they must read; the lookup flat (at most {FLAT}x).", "",
                  "| query | must read | rows at M | rows at L | rows L / M | M, ms | L, ms | time L / M | met | "
                  "quickest round L / M |", "|---|---|---:|---:|---:|---:|---:|---:|---|---:|"]
        for query, by in q["queries"].items():
            (rm, what), (rl, _) = read_m[query], read_l[query]
            sm, sl = by["M"]["median_ms"], by["L"]["median_ms"]
            goal = FLAT if query == "lookup" else rl / rm
            lines.append(f"| {report.TITLES[query]} | {what} | {rm:,} | {rl:,} | {rl / rm:.2f}x | {sm:.2f} "
                         f"[{by['M']['min_ms']:.1f} - {by['M']['max_ms']:.1f}] | {sl:.2f} [{by['L']['min_ms']:.1f} - "
                         f"{by['L']['max_ms']:.1f}] | {sl / sm:.2f}x | {'yes' if sl / sm <= goal else '**no**'} "
                         f"(goal <= {goal:.2f}x) | {by['L']['min_ms'] / by['M']['min_ms']:.2f}x |")
        lines += ["", "Under a high load most of a median is waiting for a core, which both sizes pay alike and which "
                  "flattens the ratio; the quickest rounds come closest to the work itself.",
                  "", "Rows: from each size's own run (bench/anatomy.py); the engagement window holds "
                  f"{m['anatomy']['queries']['window_customers']:,} customers at M and "
                  f"{big['anatomy']['queries']['window_customers']:,} at L. Medians [min - max] of "
                  + "/".join(str(by["M"]["runs"]) for by in q["queries"].values()) + " rounds after 2 warm-up rounds."]
    lines += ["", "## Each size's own run (`python -m bench --size M|L --only queries`; L's is RESULTS.md's)", "",
              "Two runs at different times: the load moves between them, so these ratios are rougher than the ones above.", "",
              "| query | rows L / M | segwork M, ms | segwork L, ms | time L / M | inside the engine L / M |",
              "|---|---:|---:|---:|---:|---:|"]
    for query in report.TITLES:
        rm, rl = read_m[query][0], read_l[query][0]
        sm, sl = m["queries"][query]["segwork"]["median_ms"], big["queries"][query]["segwork"]["median_ms"]
        em, el = (r["queries"][query]["engine"].get("internal_ms", float("nan")) for r in (m, big))
        lines.append(f"| {report.TITLES[query]} | {rl / rm:.2f}x | {sm:.2f} | {sl:.2f} | {sl / sm:.2f}x | {el / em:.2f}x |")
    ways = [c for c in report.NAMES if all(c in r["queries"]["lookup"] for r in (m, big))]  # L has no pandas
    lines += ["", "Every contender measured at both sizes, time L / time M (medians):", "",
              "| query | " + " | ".join(report.NAMES[c] for c in ways) + " |", "|---|" + "---:|" * len(ways)]
    for query in report.TITLES:
        lines.append(f"| {report.TITLES[query]} | " + " | ".join(
            f"{big['queries'][query][c]['median_ms'] / m['queries'][query][c]['median_ms']:.2f}x" for c in ways) + " |")
    lines += ["", "Loading L's query data: generated in "
              + (big["generated"].removeprefix("generated in ") if "generated" in big else "?")
              + "; " + ("; ".join(f"{t} {rows:,} rows through segwork.ingest in {s:.0f} s ({rows / s / 1e6:.2f} M rows/s)"
                                   for t, (rows, s) in big["load"].items()) if big.get("load") else "loaded in an earlier run")
              + ".", ""]
    if stored.get("memory"):
        lines += _memory(stored["memory"])
    return "\n".join(lines) + "\n"


def _memory(mem: dict) -> list[str]:
    files = mem["files"]
    out = [MEMORY_HEADING, "",
           f"Measured {mem['date']}, commit {mem['commit']}, load average at start {' '.join(mem['load_average'])}, "
           f"at end {' '.join(mem['load_average_end'])}: one fresh `python -m bench.memprobe` process per file and way "
           "(peak RSS: Python, Arrow and the engine; live data: the most Arrow's pool held and the engine tracked, "
           "sampled every 50 ms).", "",
           "| size | events | file | segwork.ingest: peak RSS | live: Arrow + engine | seconds | engine's own load: peak RSS | "
           "live: engine | seconds |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for size, by in files.items():
        s, e = _probes(by, "segwork"), _probes(by, "engine")
        out.append(f"| {size} | {s[0]['rows']:,} | {s[0]['bytes'] / 2**20:.0f} MB | {_mb(s, 'peak_rss_mb')} | "
                   f"{_median(s, 'arrow_peak_mb'):.0f} + {_median(s, 'engine_tracked_peak_mb'):.0f} MB | "
                   f"{_median(s, 'seconds'):.0f} | "
                   + (f"{_mb(e, 'peak_rss_mb')} | {_mb(e, 'engine_tracked_peak_mb')} | {_median(e, 'seconds'):.0f} |" if e
                      else "not measured | | |"))
    growth = {}
    for way in WAYS:
        m, big = _probes(files["M"], way), _probes(files["L"], way)
        if m and big:
            pairs = [(b["peak_rss_mb"] / a["peak_rss_mb"] - 1) * 100 for a in m for b in big]
            growth[way] = ((_median(big, "peak_rss_mb") / _median(m, "peak_rss_mb") - 1) * 100, min(pairs), max(pairs), len(pairs))
    g, low, high, n = growth["segwork"]
    met = "met" if g < MEMORY_GOAL else "**missed**"
    spread = f"; every M probe against every L probe: {low:+.0f} to {high:+.0f} %" if n > 1 else ""
    out += ["", f"Growth of the peak RSS from {_probes(files['M'], 'segwork')[0]['rows']:,} to "
                f"{_probes(files['L'], 'segwork')[0]['rows']:,} events, medians: "
                f"{g:+.1f} % through segwork.ingest (goal: within {MEMORY_GOAL:.0f} %, {met}{spread})"
                + (f"; {growth['engine'][0]:+.0f} % for the engine's own load of the same files." if "engine" in growth else ".")
                + (f" {mem['note']}" if mem.get("note") else ""), ""]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__)
    ap.add_argument("--only", choices=("queries", "memory"), help="measure only this (the other is kept as stored)")
    ap.add_argument("--ways", default=",".join(WAYS), help="memory: whose loads to probe (segwork,engine)")
    ap.add_argument("--rounds", type=int, default=1, help="memory: probes of each size and way (M, L, M, L...)")
    ap.add_argument("--render", action="store_true", help="write GROWTH.md from the stored figures, measuring nothing")
    args = ap.parse_args(argv)
    runs = {s: json.loads((report.RUNS / f"{s}.json").read_text()) for s in ("M", "L")
            if (report.RUNS / f"{s}.json").exists()}
    missing = [s for s in ("M", "L") if "queries" not in runs.get(s, {})]
    memory_alone = missing and args.only == "memory" and GROWTH_MD.exists()
    if missing and not memory_alone:
        ap.error(f"no stored query run of size {', '.join(missing)}: run `python -m bench --size {missing[0]} --only queries` first")
    stored = json.loads(STORED.read_text()) if STORED.exists() else {}
    ways = tuple(w for w in args.ways.split(",") if w in WAYS) or WAYS
    for part, measure in (("queries", queries), ("memory", lambda: memory(ways=ways, rounds=args.rounds))):
        if not args.render and args.only in (None, part):
            stored[part] = measure()
            STORED.write_text(json.dumps(stored, indent=1) + "\n")
    if memory_alone:  # the query runs are not here: keep GROWTH.md's query sections as written
        kept = GROWTH_MD.read_text().split(MEMORY_HEADING)[0].rstrip("\n")
        GROWTH_MD.write_text(kept + "\n\n" + "\n".join(_memory(stored["memory"])))
    else:
        GROWTH_MD.write_text(render(runs, stored))
    print(f"wrote {GROWTH_MD.relative_to(report.BENCH.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
