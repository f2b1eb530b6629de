"""Small Events API payloads (`python -m bench.api_bench --only small [--seconds 10] [--clients 8]`):
`--clients` concurrent clients post single events and 100-event batches into an empty database,
each its next request once the previous is answered; events/s and p50/p95 per request, for
wait=true (200: written and counted when answered) and the default (202), with the spool off
(202 after the write) and on (SEGWORK_API_SPOOL=1: 202 once on disk, written by the drain). The
two servers run one after the other, twice (off, on, off, on), on the same machine and load.

With the spool on, the table also says how long after the last 202 of a case its last request
was written (its job `done`): how fresh the data is, and that the drain keeps up. Clients are
keep-alive http.client connections (the lightest in the standard library): what they cost is
CPU the server does not get on a 2-core machine.
"""
from __future__ import annotations

import contextlib
import http.client
import io
import json
import shutil
import threading
import time

import pandas as pd

from bench.api_bench import (FOLDER, INGEST_DATABASE, ROOT, _concurrently, _free_port, _load, _pct, _python, _serve, _stop,
                             log)

CASES = ((1, False), (1, True), (100, False), (100, True))  # (events per request, wait=true)
MODES = ("off", "on", "off", "on")  # SEGWORK_API_SPOOL of each server, in turn


def run(args) -> int:
    log(f"small payloads: {args.clients} clients, {args.seconds:.0f} s per case; load {_load()}")
    results: dict[tuple, list] = {}
    writes = []
    for mode in MODES:
        state = json.loads(_python("--role", "prepare", "--size", args.size).stdout)
        shutil.rmtree(FOLDER / "spool", ignore_errors=True)  # a killed run's spool would replay into the new database
        port = _free_port()
        server = _serve(port, INGEST_DATABASE, SEGWORK_API_SPOOL="1" if mode == "on" else "0")
        try:
            for case, value in _cases(port, state["ingest_token"], args.clients, args.seconds).items():
                results.setdefault((mode, *case), []).append(value)
        finally:
            _stop(server)
        writes.append(json.loads(_python("--role", "writes", "--size", args.size).stdout))
    _python("--role", "cleanup", "--size", args.size)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _table(results, writes, args)
    print(out.getvalue())
    _save(out.getvalue())
    return 0


def _cases(port: int, token: str, clients: int, seconds: float) -> dict:
    """Per case: (events/s, round trips in s, s from the last answer until written or None)."""
    out = {}
    _post_all(port, token, Bodies(1), False, clients, 2.0, [])  # warm-up: the server's threads open their engine clients
    for size, wait in CASES:
        spent: list[float] = []
        rate, last = _post_all(port, token, Bodies(size), wait, clients, seconds, spent)
        answered_at = time.monotonic()
        lag = None if wait else _written_after(port, token, last, answered_at)
        out[(size, wait)] = (rate, spent, lag)
        log(f"  {clients} clients, {size} event(s) per request, wait={str(wait).lower()}: {rate:,.0f} events/s, "
            f"p50 {_pct(spent, 50) * 1000:.1f} ms" + (f", written {lag:.2f} s after the last answer" if lag is not None else ""))
    return out


def _post_all(port, token, make, wait: bool, clients: int, seconds: float, spent: list) -> tuple[float, str]:
    done, errors, last = [0] * clients, [], [""]
    end = time.monotonic() + seconds
    path = "/v0/events?name=customer_events" + ("&wait=true" if wait else "")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            while not errors and time.monotonic() < end:
                body = make.next()
                started = time.perf_counter()
                conn.request("POST", path, body=body, headers=headers)
                r = conn.getresponse()
                answer = r.read()
                if r.status != (200 if wait else 202) or json.loads(answer)["successful_rows"] != make.size:
                    errors.append(f"{r.status} {answer[:300]!r}")
                    return
                spent.append(time.perf_counter() - started)
                done[k] += make.size
                last[0] = json.loads(answer)["import_id"]
        finally:
            conn.close()

    took = _concurrently(client, clients)
    if errors:
        raise SystemExit(f"small-payload ingestion failed: {errors[0]}")
    return sum(done) / took, last[0]


def _written_after(port: int, token: str, import_id: str, since: float) -> float:
    """Seconds from `since` until the job of `import_id` is done (written), polled every 10 ms."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        while True:
            conn.request("GET", f"/v0/jobs/{import_id}", headers={"Authorization": f"Bearer {token}"})
            r = conn.getresponse()
            status = json.loads(r.read()).get("status")
            if status == "done":
                return time.monotonic() - since
            if status == "error" or time.monotonic() - since > 300:
                raise SystemExit(f"the last spooled request was not written: job {status}")
            time.sleep(0.01)
    finally:
        conn.close()


class Bodies:
    """Unique NDJSON bodies of `size` events (timestamps of the last hour, 2,000 customers)."""

    def __init__(self, size: int):
        self.size, self.run, self._n = size, f"{time.time_ns():x}", 0
        self._lock = threading.Lock()
        self.now = pd.Timestamp.now(tz="UTC").floor("s")

    def next(self) -> bytes:
        with self._lock:
            self._n += 1
            n = self._n
        kinds = ("page_view", "product_view", "add_to_cart", "login", "purchase", "search")
        return "".join(json.dumps({"event_id": f"apismall-{self.run}-{n}-{i}", "customer_id": f"c{(n * 7 + i) % 2000:07d}",
                                   "event_type": kinds[(n + i) % 6], "event_value": round(1 + (n * 13 + i) % 199 * 1.01, 2),
                                   "product_id": f"p{(n + i) % 5000:05d}", "category": "books",
                                   "timestamp": (self.now - pd.Timedelta(seconds=(n * 31 + i) % 3600)).strftime("%Y-%m-%d %H:%M:%S")})
                       + "\n" for i in range(self.size)).encode()


def _table(results: dict, writes: list[dict], args) -> None:
    print(f"\nSmall payloads: {args.clients} concurrent clients, {args.seconds:.0f} s per case, empty database, "
          f"servers in turn {', '.join(MODES)} (spool); load {_load()}. Each cell: the runs' figures (ranges).")
    print("\n| POST /v0/events | spool | events/s | p50 ms per request | p95 ms | written after the last 202 (s) |"
          "\n|---|---|---:|---:|---:|---:|")
    for size, wait in CASES:
        for mode in ("off", "on"):
            runs = results.get((mode, size, wait), [])
            if not runs:
                continue
            what = f"{size} event{'s' if size > 1 else ''} per request, " + ("wait=true (200)" if wait else "default (202)")
            lags = [r[2] for r in runs if r[2] is not None]
            print(f"| {what} | {mode} | {_range([r[0] for r in runs], '{:,.0f}')} | "
                  f"{_range([_pct(r[1], 50) * 1000 for r in runs], '{:.1f}')} | "
                  f"{_range([_pct(r[1], 95) * 1000 for r in runs], '{:.1f}')} | "
                  f"{_range(lags, '{:.2f}') if lags else '-'} |")
    off = [w for w, m in zip(writes, MODES) if m == "off"]
    on = [w for w, m in zip(writes, MODES) if m == "on"]
    for name, found in (("off", off), ("on", on)):
        print(f"\nWrites with the spool {name} (from ingest_log: requests logged 'finished' in one insert): "
              + "; ".join(f"{w['writes']:,} for {w['requests']:,} requests, at most {w['max_requests']} requests and "
                          f"{w['max_rows']:,} rows per write (median {w['median_rows']:,.0f})" for w in found) + ".")
    print("\nSpool off: every answer, 200 or 202, comes after its write: no answered row is at risk in a crash. Spool on: "
          "a 202 comes once the body is on disk (fsync); a crash after it loses nothing (the next start writes it, "
          "tests/test_api_spool_crash.py); what is at risk is only what was never answered.")


def _range(values: list[float], fmt: str) -> str:
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}-{fmt.format(hi)}"


def _save(text: str) -> None:
    """Keep the table as the last section of bench/API_RESULTS.md (the size sections stay)."""
    path = ROOT / "bench" / "API_RESULTS.md"
    old = path.read_text() if path.exists() else "# HTTP API benchmark results\n\nWritten by `bench/api_bench.py`; figures depend on the machine and its load.\n"
    head = old.partition("\n## Small payloads")[0]
    section = (f"\n## Small payloads\n\nRun {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by "
               f"`python -m bench.api_bench --only small`.\n" + text)
    path.write_text(head.rstrip("\n") + "\n" + section)

