"""Small Events API payloads (`python -m bench.api_bench --only small [--seconds 10] [--clients 8]
[--load-generator wrk|python]`): `--clients` concurrent clients post single events and 100-event
batches into an empty database, each its next request once the previous is answered; events/s and
p50/p95 per request, for wait=true (200: written and counted when answered) and the default
(202), with the spool off (202 after the write) and on (SEGWORK_API_SPOOL=1: 202 once on disk,
written by the drain). The two servers run one after the other, twice (off, on, off, on), on the
same machine and load.

With the spool on, the table also says how long after the last 202 of a case its last request
was written (its job `done`): how fresh the data is, and that the drain keeps up.

The clients share the server's 2 cores here, so what they cost is CPU the server does not get:
`wrk` (Debian's package, a C load generator; bench/wrk_events.lua makes its bodies and checks
every answer) when it is on PATH, else keep-alive http.client connections on threads of this
process. Their first version made each event with pandas and json.dumps and measured itself:
single events 575-766/s with the spool; bodies cut from a template, 1,604/s; wrk, ~1,750-2,640/s
on the same server. Each row says which generator ran, and the server's own CPU time per request
(all its threads, the engine's included), which does not depend on the client.
"""
from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import shutil
import subprocess
import time

from bench.api_bench import (FOLDER, SERVER_LOG, Batches, INGEST_DATABASE, ROOT, _concurrently, _free_port, _load, _pct, _python, _serve, _stop,
                             log)

CASES = ((1, False), (1, True), (100, False), (100, True))  # (events per request, wait=true)
MODES = ("off", "on", "off", "on")  # SEGWORK_API_SPOOL of each server, in turn


def run(args) -> int:
    generator = args.load_generator or ("wrk" if shutil.which("wrk") else "python")
    if generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("--load-generator wrk: wrk is not on PATH (Debian: apt install wrk)")
    log(f"small payloads: {args.clients} clients ({generator}), {args.seconds:.0f} s per case; load {_load()}")
    results: dict[tuple, list] = {}
    writes = []
    for mode in MODES:
        state = json.loads(_python("--role", "prepare", "--size", args.size).stdout)
        shutil.rmtree(FOLDER / "spool", ignore_errors=True)  # a killed run's spool would replay into the new database
        port = _free_port()
        server = _serve(port, INGEST_DATABASE, SEGWORK_API_SPOOL="1" if mode == "on" else "0")
        try:
            post = Poster(port, state["ingest_token"], args.clients, generator, server.pid)
            for case, value in _cases(post, args.seconds).items():
                results.setdefault((mode, *case), []).append(value)
        finally:
            _stop(server)
        writes.append(json.loads(_python("--role", "writes", "--size", args.size).stdout))
    _python("--role", "cleanup", "--size", args.size)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _table(results, writes, args, generator)
    print(out.getvalue())
    _save(out.getvalue())
    return 0


def _cases(post: "Poster", seconds: float) -> dict:
    """Per case: Result."""
    out = {}
    post.run(1, False, 2.0)  # warm-up: the server's threads open their engine clients
    time.sleep(1.0)  # its requests still in flight are finished before the first case
    for size, wait in CASES:
        cpu = _cpu_seconds(post.pid)
        result = post.run(size, wait, seconds)
        answered_at = time.monotonic()
        if not wait:  # the drain's work after the last 202 is part of the requests' cost
            result.lag = _written_after(post.port, post.token, result.last, answered_at)
        time.sleep(1.0)  # wrk leaves its last requests in flight: the server finishes them before the next case
        result.server_ms = (_cpu_seconds(post.pid) - cpu) * 1000 / max(result.requests, 1)
        out[(size, wait)] = result
        log(f"  {post.clients} clients, {size} event(s) per request, wait={str(wait).lower()}: {result.rate:,.0f} events/s, "
            f"p50 {result.p50 * 1000:.1f} ms, server CPU {result.server_ms:.2f} ms per request"
            + (f", written {result.lag:.2f} s after the last answer" if result.lag is not None else ""))
    return out


class Result:
    """One case's run: events/s, p50/p95 round trip (s), requests answered, the last import id
    answered; then (spool on) s from the last answer until it was written, and the server's CPU ms
    per request (until then)."""

    def __init__(self, rate: float, p50: float, p95: float, requests: int, last: str):
        self.rate, self.p50, self.p95, self.requests, self.last = rate, p50, p95, requests, last
        self.lag: float | None = None
        self.server_ms = float("nan")


class Poster:
    """`clients` keep-alive clients posting to the server at `port` (process `pid`) with wrk or Python."""

    def __init__(self, port: int, token: str, clients: int, generator: str, pid: int):
        self.port, self.token, self.clients, self.generator, self.pid = port, token, clients, generator, pid

    def run(self, size: int, wait: bool, seconds: float) -> Result:
        path = "/v0/events?name=customer_events" + ("&wait=true" if wait else "")
        return Result(*(self._wrk if self.generator == "wrk" else self._python)(path, size, wait, seconds))

    def _wrk(self, path: str, size: int, wait: bool, seconds: float) -> tuple:
        env = {**os.environ, "SIZE": str(size), "RUN": f"{time.time_ns():x}", "STATUS": "200" if wait else "202"}
        proc = subprocess.run(["wrk", "-t1", f"-c{self.clients}", f"-d{seconds:g}s", "--timeout", "120s",
                               "-s", str(ROOT / "bench" / "wrk_events.lua"), "-H", f"Authorization: Bearer {self.token}",
                               f"http://127.0.0.1:{self.port}{path}"], capture_output=True, text=True, env=env)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        if proc.returncode or not lines:
            raise SystemExit(f"wrk failed ({proc.returncode}): {proc.stderr[-500:] or proc.stdout[-500:]}")
        d = json.loads(lines[-1])
        if d["failed"] or d["wrong_rows"] or d["socket_errors"]:
            raise SystemExit(f"small-payload ingestion failed: {d} (the server's log: {SERVER_LOG})")
        return (d["requests"] * size / d["seconds"], d["p50_ms"] / 1000, d["p95_ms"] / 1000, d["requests"],
                d["last_import_id"])

    def _python(self, path: str, size: int, wait: bool, seconds: float) -> tuple:
        make = Batches(2000, size=size)
        done, errors, last, spent = [0] * self.clients, [], [""], []
        end = time.monotonic() + seconds
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/x-ndjson"}

        def client(k: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                while not errors and time.monotonic() < end:
                    body = make.next()
                    started = time.perf_counter()
                    conn.request("POST", path, body=body, headers=headers)
                    r = conn.getresponse()
                    answer = r.read()
                    if r.status != (200 if wait else 202) or json.loads(answer)["successful_rows"] != size:
                        errors.append(f"{r.status} {answer[:300]!r}")
                        return
                    spent.append(time.perf_counter() - started)
                    done[k] += 1
                    last[0] = json.loads(answer)["import_id"]
            finally:
                conn.close()

        took = _concurrently(client, self.clients)
        if errors:
            raise SystemExit(f"small-payload ingestion failed: {errors[0]} (the server's log: {SERVER_LOG})")
        return sum(done) * size / took, _pct(spent, 50), _pct(spent, 95), sum(done), last[0]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process `pid` so far (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()  # fields[0] is the 3rd field (state): utime and stime are the 14th and 15th
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def _table(results: dict, writes: list[dict], args, generator: str) -> None:
    client = ("wrk (bench/wrk_events.lua, 1 thread)" if generator == "wrk"
              else "threads of one Python process (http.client)")
    print(f"\nSmall payloads: {args.clients} concurrent keep-alive clients: {client}; {args.seconds:.0f} s per case, "
          f"empty database, servers in turn {', '.join(MODES)} (spool); load {_load()}. Each cell: the runs' figures (ranges). "
          "Server CPU: the server process's user + system time (all threads, the engine's too) per request answered, "
          "until the last one is written (the few wrk leaves in flight as a case ends included).")
    print("\n| POST /v0/events | spool | events/s | p50 ms per request | p95 ms | server CPU ms per request "
          "| written after the last 202 (s) |\n|---|---|---:|---:|---:|---:|---:|")
    for size, wait in CASES:
        for mode in ("off", "on"):
            runs = results.get((mode, size, wait), [])
            if not runs:
                continue
            what = f"{size} event{'s' if size > 1 else ''} per request, " + ("wait=true (200)" if wait else "default (202)")
            lags = [r.lag for r in runs if r.lag is not None]
            print(f"| {what} | {mode} | {_range([r.rate for r in runs], '{:,.0f}')} | "
                  f"{_range([r.p50 * 1000 for r in runs], '{:.1f}')} | "
                  f"{_range([r.p95 * 1000 for r in runs], '{:.1f}')} | "
                  f"{_range([r.server_ms for r in runs], '{:.2f}')} | "
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

