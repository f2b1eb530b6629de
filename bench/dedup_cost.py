"""What exact event counts cost (issue 10): segwork before them (1bea9d8, a git worktree)
against segwork now, interleaved, each in a fresh process on an on-disk database:

- the size-M load: 30M events (events.parquet) through segwork.ingest into an empty database;
- one more 1M-event batch of new ids into that database (the id check against 30M stored ids);
- the same 1M batch again (every id a duplicate);
- the engagement query on the loaded database (median of 15).

`python -m bench.dedup_cost [--rounds 2] [--base /work/wt-base]` appends a section to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import data

ROOT = Path(__file__).resolve().parent.parent
WORKER = r'''
import json, statistics, sys, time
import segwork
from segwork import queries
events, extra, folder = sys.argv[1:4]
client = segwork.connect(f"chdb://{folder}")
out = {}
t = time.perf_counter(); r = segwork.ingest(client, "customer_events", events); out["load_30m_s"] = time.perf_counter() - t
out["load_inserted"] = r.inserted
t = time.perf_counter(); r = segwork.ingest(client, "customer_events", extra); out["batch_new_s"] = time.perf_counter() - t
out["batch_new_inserted"] = r.inserted
t = time.perf_counter(); r = segwork.ingest(client, "customer_events", extra); out["batch_again_s"] = time.perf_counter() - t
out["batch_again_inserted"] = r.inserted
client.command("OPTIMIZE TABLE customer_events FINAL")
times = []
for i in range(17):
    t = time.perf_counter()
    queries.customer_engagement_analysis(client, "2026-05-01", "2026-10-31 23:59:59", ["add_to_cart", "purchase"], 10, as_of="2026-11-01")
    times.append(time.perf_counter() - t)
out["engagement_ms"] = statistics.median(times[2:]) * 1000
print(json.dumps(out))
'''


def extra_batch(ds) -> Path:
    """1M events with ids never used in events.parquet (cached)."""
    path = ds.folder / "extra_1000000.parquet"
    if not path.exists():
        from segwork import synth

        df = synth.events(1_000_000, ds.customers, seed=99, end=data.END)
        df["event_id"] = [f"x{i:09d}" for i in range(len(df))]
        df.to_parquet(path, index=False)
    return path


def run(tree: Path, ds, extra: Path) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="dedup_cost_", dir=data.CACHE))
    try:
        out = subprocess.run([sys.executable, "-c", WORKER, str(ds.events_parquet), str(extra), str(folder)],
                             cwd=tree, capture_output=True, text=True, timeout=3600)
        if out.returncode:
            raise RuntimeError(out.stderr[-2000:])
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.dedup_cost", description=__doc__)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--base", default="/work/wt-base", help="a checkout of segwork before exact counts (1bea9d8)")
    args = ap.parse_args(argv)
    ds = data.dataset("M")
    extra = extra_batch(ds)
    runs = {"before": [], "now": []}
    for i in range(args.rounds):
        for name, tree in (("before", Path(args.base)), ("now", ROOT))[:: 1 if i % 2 == 0 else -1]:
            result = run(tree, ds, extra)
            runs[name].append(result)
            print(name, json.dumps(result), flush=True)
    lines = render(runs)
    print("\n".join(lines))
    path = ROOT / "bench" / "DEDUP_COST.md"
    path.write_text("\n".join(lines) + "\n")
    return 0


def render(runs: dict) -> list[str]:
    def med(name, key):
        return statistics.median(r[key] for r in runs[name])

    rows = [("30M-event load (s)", "load_30m_s"), ("1M new events into 30M (s)", "batch_new_s"),
            ("the same 1M again (s)", "batch_again_s"), ("engagement query (ms)", "engagement_ms")]
    lines = ["# What exact event counts cost (issue 10), size M", "",
             f"`python -m bench.dedup_cost`, {len(runs['now'])} interleaved rounds, each a fresh process and on-disk "
             "database; medians, with the range over rounds. 'before' is 1bea9d8 (uniqueness per chunk only).", "",
             "| figure | before | now | now / before |", "|---|---|---|---|"]
    for label, key in rows:
        b, n = med("before", key), med("now", key)
        rng = lambda name: f"{min(r[key] for r in runs[name]):.2f}-{max(r[key] for r in runs[name]):.2f}"
        lines.append(f"| {label} | {b:.2f} ({rng('before')}) | {n:.2f} ({rng('now')}) | {n / b:.2f}x |")
    lines += ["", "Rows inserted by the repeated 1M batch: before "
              f"{[r['batch_again_inserted'] for r in runs['before']]}, now {[r['batch_again_inserted'] for r in runs['now']]}."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
