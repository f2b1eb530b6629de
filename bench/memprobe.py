"""Peak memory of one segwork.ingest in a fresh process: `python -m bench.memprobe FILE ENGINE_DIR`.

Prints one JSON line: the peak RSS (VmHWM) after connecting and after the ingest, rows and
seconds. RSS counts everything (Python, Arrow buffers, the engine), unlike tracemalloc, which
sees only Python's own allocations. Not ru_maxrss: Linux carries it over from the parent
across fork + exec, so a child of a big process reports the parent's peak.
"""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def main(path: str, engine_dir: str) -> None:
    import segwork

    client = segwork.connect(f"chdb://{Path(engine_dir).resolve()}", database="probe")
    before = _peak_rss_mb()
    started = time.perf_counter()
    report = segwork.ingest(client, "customer_events", path)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "file": Path(path).name, "bytes": Path(path).stat().st_size, "rows": report.inserted, "seconds": seconds,
        "rss_before_mb": before, "peak_rss_mb": _peak_rss_mb(),
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
