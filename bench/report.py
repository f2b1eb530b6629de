"""Machine facts and the RESULTS.md rendering (latest run per size, M first)."""
from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from bench import history_report, targets

BENCH = Path(__file__).resolve().parent
RESULTS_MD = BENCH / "RESULTS.md"
RUNS = BENCH / "runs"  # latest results per size as JSON (local, git-ignored; RESULTS.md is committed)
PACKAGES = ("chdb", "chdb-core", "clickhouse-connect", "duckdb", "pandas", "pyarrow", "pandera", "numpy")
NAMES = {"segwork": "segwork", "engine": "engine alone", "duckdb": "DuckDB", "pandas": "pandas"}
TITLES = {"lookup": "customer_segment_lookup", "engagement": "customer_engagement_analysis",
          "summary": "customer_segments_summary"}
SIZES = ("M", "L", "S")  # the order of the sections
PARTS = ("queries", "history", "ingest")  # what `--only` picks; a part left out is kept from the stored run
PART_KEYS = {"queries": ("queries", "agreement", "parts"), "history": ("history",), "ingest": ("ingest", "memory")}
PART_ANATOMY = {"queries": "queries", "ingest": "ingestion"}


def machine(engine_version: str) -> dict:
    """Where and with what the run happened."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in _read("/proc/cpuinfo").splitlines() if ln.startswith("model name")), "?")
    mem_kb = next((int(ln.split()[1]) for ln in _read("/proc/meminfo").splitlines() if ln.startswith("MemTotal")), 0)
    versions = {p: _version(p) for p in PACKAGES}
    versions["ClickHouse engine"] = engine_version
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": len(os.sched_getaffinity(0)), "memory_gib": round(mem_kb / 2**20, 1),
        "os": platform.platform(), "python": platform.python_version(), "versions": versions,
        "commit": _git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if _git("status", "--porcelain", "segwork", "bench") else ""),
        "load_average": _read("/proc/loadavg").split()[:3],
    }


def merged(results: dict, parts: list[str]) -> dict:
    """This run's results, with the parts it did not run taken from the stored run of its size
    (when that has them); results["ran"] says when and at which commit each part ran."""
    path = RUNS / f"{results['size']}.json"
    if not path.exists():
        return results
    stored = json.loads(path.read_text())
    for part in PARTS:
        if part in parts or not _has(stored, part):
            continue
        for key in PART_KEYS[part]:
            if key in stored:
                results[key] = stored[key]
        kind = PART_ANATOMY.get(part)
        if kind and kind in (stored.get("anatomy") or {}):
            results.setdefault("anatomy", {})[kind] = stored["anatomy"][kind]
        results["ran"][part] = ran(stored)[part]
    return results


def ran(r: dict) -> dict:
    """{part: {date, commit}} of the parts a run holds (older runs ran all they hold at once)."""
    if "ran" in r:
        return r["ran"]
    return {p: {"date": r["machine"]["date"], "commit": r["machine"]["commit"]} for p in PARTS if _has(r, p)}


def _has(r: dict, part: str) -> bool:
    return PART_KEYS[part][0] in r


def save(results: dict) -> Path:
    """Store this size's results and re-render RESULTS.md from every size's latest run; a size
    with no stored run keeps its section of the current RESULTS.md as it is."""
    RUNS.mkdir(exist_ok=True)
    (RUNS / f"{results['size']}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    RESULTS_MD.write_text(render(_stored_runs(), kept_sections()))
    return RESULTS_MD


def _stored_runs() -> dict[str, dict]:
    return {s: json.loads((RUNS / f"{s}.json").read_text()) for s in SIZES if (RUNS / f"{s}.json").exists()}


def kept_sections() -> dict[str, list[str]]:
    """The current RESULTS.md's section of each size, as lines ("## Size M: ..." up to the next "## ")."""
    if not RESULTS_MD.exists():
        return {}
    found, size = {}, None
    for line in RESULTS_MD.read_text().splitlines():
        if line.startswith("<!-- custom segments"):  # bench.custom_segments' own section: kept by it
            size = None
        elif line.startswith("## "):
            size = line[len("## Size "):].split(":")[0] if line.startswith("## Size ") else None
            if size:
                found[size] = []
        if size:
            found[size].append(line)
    return found


def render(runs: dict[str, dict], kept: dict[str, list[str]] | None = None) -> str:
    lines = ["# Benchmark results", "",
             "Written by `make bench ARGS=\"--size S\"` / `--size M` / `--size L` (`python -m bench`); the latest run of each size.",
             "Targets (issue 6, issue 13) are set for size M on a 2-core machine; at sizes S and L they are shown for orientation.",
             "Ratios are of medians from one run, with every contender measured interleaved on the same data.", ""]
    for size in SIZES:
        if size in runs:
            lines += section(runs[size])
        elif size in (kept or {}):
            lines += kept[size]
    from bench.custom_segments import kept_section  # its own run (python -m bench.custom_segments): kept as it is
    lines += kept_section()
    lines += METHOD.splitlines()
    text = "\n".join(lines) + "\n"
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def section(r: dict) -> list[str]:
    m = r["machine"]
    out = [f"## Size {r['size']}: {r['customers']:,} customers ({r['customer_rows']:,} profile rows), {r['events']:,} events", "",
           f"Run {m['date']}, commit {m['commit']}; {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}, "
           f"Python {m['python']}; load average at start {' '.join(m['load_average'])}, at end {' '.join(r.get('load_average_end', ['?']))}.",
           "Versions: " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".", ""]
    when = ran(r)
    if any(v["date"] != m["date"] for v in when.values()):
        out += ["Not every part ran in this run (`--only`): " + "; ".join(
            f"{part} ran {v['date']}, commit {v['commit']}" for part, v in when.items())
            + ". Each part's figures are from one run; ratios never mix runs.", ""]
    out += ["### Targets", "", "| target | goal | measured | met | why, if missed |", "|---|---|---|---|---|"]
    for t in r["targets"]:
        sign = t.get("sign") or ("<=" if t["id"].endswith(("_ms", "_layer")) else ("<" if "_memory" in t["id"] else ">="))
        met = "yes" if t["met"] else f"**no** ({t['shortfall']})"
        out.append(f"| {t['text']} | {sign} {t['goal']:g} {t['unit']} | {t['value']:.2f} {t['unit']} | {met} | {t['why'] or ''} |")
    if r.get("queries"):
        out += _queries(r)
    if r.get("history"):
        out += history_report.section(r["history"])
    out += _rest(r)
    return out


def _queries(r: dict) -> list[str]:
    ways = [c for c in NAMES if c in next(iter(r["queries"].values()))]  # size L has no pandas (bench/__main__.py)
    others = [c for c in ways if c in ("duckdb", "pandas")]
    out = ["", f"### Queries: milliseconds, median [min - max] of {_runs(r)} interleaved runs after warm-up", "",
            "| query | " + " | ".join(NAMES[c] for c in ways) + " | segwork / engine | "
            + " | ".join(f"{NAMES[c]} / segwork" for c in others) + " |", "|---|" + "---:|" * (len(ways) + 1 + len(others))]
    for q, by in r["queries"].items():
        cells = [f"{by[c]['median_ms']:.2f} [{by[c]['min_ms']:.1f} - {by[c]['max_ms']:.1f}]" for c in ways]
        s = by["segwork"]["median_ms"]
        out.append(f"| {TITLES[q]} | " + " | ".join(cells) + f" | {s / by['engine']['median_ms']:.2f}x | "
                   + " | ".join(f"{by[c]['median_ms'] / s:.1f}x" for c in others) + " |")
    if "pandas" not in ways:
        out += ["", "No pandas at this size: its frames and DuckDB's tables did not fit in memory together (CONTENDERS)."]
    out += ["", "engine alone: " + "; ".join(f"{TITLES[q]} {by['engine'].get('internal_ms', float('nan')):.2f} ms inside the engine"
                                          for q, by in r["queries"].items()) + " (chDB's own elapsed time, median)."]
    agree = r["agreement"]
    count = {2: "both", 3: "all three", 4: "all four"}.get(len(ways), f"all {len(ways)}")
    out += ["", "Answers: " + (f"{count} agree" if not agree["problems"] else "**DISAGREE**: " + "; ".join(agree["problems"]))
            + f" (checked: {agree['checked']}).", ""]
    return out


def _rest(r: dict) -> list[str]:
    out = []
    if r.get("ingest"):
        out += [f"### Ingestion of {next(iter(r['ingest'].values()))['rows']:,} events, median of {_ingest_runs(r)} runs each",
                "", "| format | segwork.ingest (validated) | engine's own INSERT ... SELECT FROM file() | segwork / engine |",
                "|---|---:|---:|---:|"]
        for fmt, f in r["ingest"].items():
            s, e = f["segwork"]["rows_per_s"], f["engine"]["rows_per_s"]
            out.append(f"| {fmt.upper()} | {s / 1e6:.2f} M rows/s ({f['segwork']['seconds']['median_ms'] / 1000:.2f} s) | "
                       f"{e / 1e6:.2f} M rows/s ({f['engine']['seconds']['median_ms'] / 1000:.2f} s) | {s / e:.0%} |")
        out.append("")
    if r.get("memory"):
        out += ["### Peak memory of one load in a fresh process (RSS: Python, Arrow and the engine)", "",
                "Live data at the peak: the most Arrow's pool held and the engine tracked as its own memory, sampled every 50 ms.", "",
                "| format | rows | file | RSS before | peak RSS, segwork.ingest | live: Arrow + engine | "
                "peak RSS, engine's own load | live: engine |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for fmt, by_rows in r["memory"].items():
            for k in sorted(by_rows, key=int):
                s, e = by_rows[k]["segwork"], by_rows[k]["engine"]
                out.append(f"| {fmt.upper()} | {int(k):,} | {s['bytes'] / 2**20:.0f} MB | {s['rss_before_mb']:.0f} MB | "
                           f"{s['peak_rss_mb']:.0f} MB | {s.get('arrow_peak_mb', 0):.0f} + {s.get('engine_tracked_peak_mb', 0):.0f} MB | "
                           f"{e['peak_rss_mb']:.0f} MB | {e.get('engine_tracked_peak_mb', 0):.0f} MB |")
        out += ["", "| format | rows | growth, segwork.ingest | growth, engine's own load |", "|---|---|---:|---:|"]
        for step in targets.memory_steps(r["memory"]):
            g = step["growth"]
            out.append(f"| {step['format'].upper()} | {step['rows']:,} -> {step['rows_10x']:,} | {g['segwork']:+.0f} % | "
                       f"{g['engine']:+.0f} % |")
        out.append("")
    a = r.get("anatomy") or {}
    if a:
        out += ["### Where the time goes (bench/anatomy.py)", ""]
    if a.get("queries"):
        aq = a["queries"]
        out += [f"Inside the engine, median ms (the engagement window holds {aq['window_rows']:,} events of "
                f"{aq['window_customers']:,} customers):", "", "| step | ms |", "|---|---:|"]
        out += [f"| {step} | {ms:.2f} |" for step, ms in aq["ms"].items()]
        out.append("")
    if a.get("ingestion"):
        ai = a["ingestion"]
        out += [f"Ingestion of the {ai['rows']:,}-event Parquet file, read and validated in {ai['blocks']} blocks of "
                f"{ai['chunk_rows']:,} rows, each stage timed on its own (one core), and the insert of the validated rows "
                f"alone ({ai.get('inserts', ai['blocks'])} inserts, content hash included):", "",
                "| stage | seconds |", "|---|---:|"]
        out += [f"| Python: {stage} | {sec:.2f} |" for stage, sec in ai["python_stages_s"].items()]
        out += [f"| Python: all stages | {ai['python_total_s']:.2f} |",
                f"| insert of the validated rows (hash + engine) | {ai['engine_insert_s']:.2f} |", ""]
    if r.get("load"):
        out += ["### Loading the query data through segwork.ingest (Parquet)", ""]
        out += [f"- {t}: {rows:,} rows in {s:.1f} s ({rows / s / 1e6:.2f} M rows/s)" for t, (rows, s) in r["load"].items()]
        out.append("")
    out += [f"Parts when measured: {r.get('parts', '?')}. Generated data: {r['generated']}.", ""]
    return out


METHOD = """## How it is measured

- Data: `segwork.synth` (seeded), Pareto-skewed activity over two years, 20 locations, plus a
  later profile version for 10 % of customers (another lifetime value; 20 % of those moved), so
  every contender must pick the latest version. Cached under `bench/cache/` as Parquet and CSV.
- segwork: the public functions (`segwork.customer_segment_lookup`, ...), on the benchmark's own
  embedded engine (`bench/cache/chdb`), loaded through `segwork.ingest` and left to merge.
- engine alone: the same `segwork/sql/*.sql` text and parameter values on a bare `chdb.connect()`
  handle to the same engine, parameters bound once up front, the result as Arrow turned into a
  DataFrame (the quickest way out of chDB measured here): the floor segwork's layer (checks,
  client, conversion) is measured against. "Inside the engine" is chDB's own elapsed time.
- DuckDB: an in-memory database with both tables created from the same Parquet files (in file
  order), the same thread count, the same semantics (latest profile version per customer) and
  the same query shapes (aggregate events first, top 10, then fetch those profiles).
- pandas: both tables read into frames once (not timed); each answer computed from them as a
  notebook would: boolean masks, groupby, sort, `drop_duplicates(keep="last")` for the latest
  profile, merge.
- Parameters: a different random existing customer per lookup round; engagement for
  2026-05-01 .. 2026-10-31 and event types purchase + add_to_cart, top 10; summary for
  New York, ages 25..45; as_of 2026-11-01 for all (01:00 UTC since the history: at 00:00 a
  few profiles stamped up to an hour after their signup are not in yet, bench/workload.py).
- Every round runs every contender once, in a rotating order, garbage collection between
  rounds; medians are quoted because the machine is shared. Answers are compared before timing.
- Ingestion: events files (the first rows of the generated events), each format loaded into a
  fresh database with segwork's schema, alternating segwork.ingest and the engine's own
  `INSERT INTO customer_events SELECT * FROM file(...)`. Peak memory: the peak RSS (`VmHWM`) of a
  fresh `python -m bench.memprobe` process per file and way (segwork.ingest, or the engine's
  own load as the baseline), with the most Arrow's pool held and the engine tracked
  (`MemoryTracking`) sampled every 50 ms; at sizes M and L also for the whole events file
  (30M and 100M events). Growth from M to L: `python -m bench.growth`, bench/GROWTH.md.
- Where the time goes (`bench/anatomy.py`): stripped-down versions of the lookup and engagement
  SQL on the bare engine (a trivial query, the profile's columns only, the aggregate without
  profiles, the scan alone), and the ingestion stages timed one by one; the "why" of a missed
  target quotes these figures of the same run.
"""


def _runs(r: dict) -> str:
    counts = sorted({by[c]["runs"] for by in r["queries"].values() for c in by})
    return "/".join(str(c) for c in counts)


def _ingest_runs(r: dict) -> int:
    return next(iter(r["ingest"].values()))["segwork"]["seconds"]["runs"]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=BENCH.parent, check=False).stdout.strip()
    except OSError:
        return ""


def rerender() -> Path:
    """RESULTS.md again from the stored runs, the targets judged anew (`python -m bench.report`):
    for a changed report or "why" text without measuring again."""
    runs = _stored_runs()
    for r in runs.values():
        r["targets"] = targets.judge(r)
    RESULTS_MD.write_text(render(runs, kept_sections()))
    return RESULTS_MD


if __name__ == "__main__":
    print(f"wrote {rerender()}")
