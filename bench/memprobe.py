"""Peak memory of one load in a fresh process: `python -m bench.memprobe FILE ENGINE_DIR [segwork|engine]`.

segwork: segwork.ingest of the file (the default); engine: the engine's own
`INSERT ... SELECT FROM file()` of the same file into the same table, the baseline.

Prints one JSON line: the peak RSS (VmHWM) after connecting and after the ingest, rows and
seconds. RSS counts everything (Python, Arrow buffers, the engine), unlike tracemalloc, which
sees only Python's own allocations. Not ru_maxrss: Linux carries it over from the parent
across fork + exec, so a child of a big process reports the parent's peak.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


class _Peaks(threading.Thread):
    """Samples, every 50 ms, what Arrow's memory pool holds and what the engine tracks as its
    own memory (system.metrics MemoryTracking), keeping the peaks: the parts of the RSS that
    are live data, as opposed to what the heap keeps after it was freed."""

    def __init__(self, engine_dir: str):
        super().__init__(daemon=True)
        import chdb

        self.conn = chdb.connect(str(Path(engine_dir).resolve()))
        self.arrow_mb = self.engine_mb = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        import pyarrow as pa

        while not self.done.is_set():
            tracked = self.conn.query("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'", "TabSeparated")
            self.engine_mb = max(self.engine_mb, float(tracked.bytes().decode().strip() or 0) / 2**20)
            self.arrow_mb = max(self.arrow_mb, pa.total_allocated_bytes() / 2**20)
            self.done.wait(0.05)


def main(path: str, engine_dir: str, way: str = "segwork") -> None:
    import segwork

    client = segwork.connect(f"chdb://{Path(engine_dir).resolve()}", database="probe")
    before = _peak_rss_mb()
    peaks = _Peaks(engine_dir)
    peaks.start()
    started = time.perf_counter()
    if way == "segwork":
        rows = segwork.ingest(client, "customer_events", path).inserted
    else:
        from bench.ingestion import engine_source

        client.command(f"INSERT INTO customer_events SELECT * FROM {engine_source(Path(path).resolve())}")
        rows = client.command("SELECT count() FROM customer_events")
    seconds = time.perf_counter() - started
    peaks.done.set()
    peaks.join()
    print(json.dumps({
        "way": way, "file": Path(path).name, "bytes": Path(path).stat().st_size, "rows": rows, "seconds": seconds,
        "rss_before_mb": before, "peak_rss_mb": _peak_rss_mb(),
        "arrow_peak_mb": peaks.arrow_mb, "engine_tracked_peak_mb": peaks.engine_mb,
    }))


if __name__ == "__main__":
    main(*sys.argv[1:4])
