"""HTTP API benchmark (not a test): sustained NDJSON ingestion and pipe latency, over loopback.

    .venv/bin/python -m bench.api_bench [--size S|M] [--seconds 15] [--writers 2]
    .venv/bin/python -m bench.api_bench --only small [--seconds 10] [--clients 8] [--load-generator wrk|python]

Runs `python -m segwork serve` as its own process on the benchmark's data (bench.data, loaded
through POST /v0/datasources into bench/cache/api/, never data/), and drives it from this
process with HTTP clients, so client and server do not share a GIL. Prints, each against a
baseline measured in the same run:
- Events API: events/s with batches of 10,000 NDJSON events (unique per request, timestamps of
  the last hour), 1 and N writers, against segwork.ingest on the same batches without HTTP;
- pipes: p50/p95 of the tutorial's three calls, idle and while one writer ingests nonstop;
- pipes over HTTP against the same library call with the same parameters (bench/api_compare.py).
- small payloads (`--only small` runs just these, bench/api_small.py): `--clients` concurrent clients posting single
  events and 100-event batches into an empty database, events/s, p50/p95 per request and the
  server's CPU per request; the clients are wrk when it is on PATH (apt install wrk).
Figures depend on the machine and its load (the load average is printed).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "bench" / "cache" / "api"
SERVER_LOG = ROOT / "bench" / "cache" / "api-server.log"  # the servers' own log, kept to read a 500's traceback
DATABASE = "api_bench_{size}"  # the benchmark's data of one size, loaded once, queried while ingesting
INGEST_DATABASE = "api_ingest"  # empty at the start of each run, for ingestion alone
BATCH = 10_000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.api_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["S", "M"], default="S")
    ap.add_argument("--seconds", type=float, default=15.0, help="length of each timed phase")
    ap.add_argument("--writers", type=int, default=2, help="parallel writers in the second ingestion phase")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients of the small-payload cases")
    ap.add_argument("--spool", action="store_true", help="the servers run with SEGWORK_API_SPOOL=1 and the Events API is "
                    "posted wait=false; ingestion rates run until the last request is written (its own section)")
    ap.add_argument("--load-generator", choices=["wrk", "python"], help="the small-payload cases' clients: wrk (the "
                    "default when on PATH: a C load generator, so the clients take little of the server's CPU) or Python threads")
    ap.add_argument("--only", choices=["small"], help="run only these cases (small: single events and 100-event batches)")
    ap.add_argument("--role", choices=["prepare", "baseline", "cleanup", "writes"], help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.role:
        return _role(args)
    if args.only == "small":
        from bench import api_small

        return api_small.run(args)
    from bench import data

    ds = data.dataset(args.size, log=log)
    log(f"API benchmark, size {args.size}: {ds.customers:,} customers, {ds.events:,} events; load {_load()}")
    make = Batches(ds.customers)
    log(f"baseline: segwork.ingest of {BATCH:,}-event NDJSON batches, no HTTP, {args.seconds / 2:.0f} s before and after ...")
    before = json.loads(_python("--role", "baseline", "--seconds", str(args.seconds / 2), "--size", args.size).stdout)
    state = json.loads(_python("--role", "prepare", "--size", args.size).stdout)
    results = {}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    spool = {"SEGWORK_API_SPOOL": "1" if args.spool else "0"}
    if args.spool:
        import shutil

        shutil.rmtree(FOLDER / "spool", ignore_errors=True)  # a killed run's spool would replay into the new database
    server = _serve(port, INGEST_DATABASE, **spool)  # an empty database, as the baseline's
    try:
        auth = {"Authorization": f"Bearer {state['ingest_token']}"}
        for writers in sorted({1, args.writers}):
            results[writers] = _ingest(url, auth, make, writers, args.seconds, spool=args.spool)
            log(f"  Events API, {writers} writer(s): {results[writers][0]:,.0f} events/s")
    finally:
        _stop(server)
    after = json.loads(_python("--role", "baseline", "--seconds", str(args.seconds / 2), "--size", args.size).stdout)
    base = {"events_per_s": (before["events_per_s"] + after["events_per_s"]) / 2, "before": before["events_per_s"],
            "after": after["events_per_s"]}
    server = _serve(port, DATABASE.format(size=args.size), **spool)  # the benchmark's data
    try:
        auth = {"Authorization": f"Bearer {state['token']}"}
        if state["events"] < ds.events:
            _load_data(url, auth, ds)
        calls = _pipe_calls(ds.customers)
        log(f"  pipes, idle, {args.seconds:.0f} s ...")
        idle = _latencies(url, auth, calls, args.seconds)
        # The writer is a process of its own, as another client would be: on a thread beside the pipe
        # client it shared this process's GIL, and its waits showed in the pipes' latencies.
        spawn = multiprocessing.get_context("spawn")
        stop, box = spawn.Event(), spawn.Queue()
        writer = spawn.Process(target=_writer_process, args=(url, auth, ds.customers, stop, args.spool, box))
        writer.start()
        log(f"  pipes while one writer (its own process) ingests, {args.seconds:.0f} s ...")
        busy = _latencies(url, auth, calls, args.seconds)
        stop.set()
        busy_ingest = box.get(timeout=600)
        writer.join()
    finally:
        _stop(server)
    log("  pipes over HTTP against the library call, same parameters, interleaved (bench.api_compare) ...")
    compare = json.loads(_run_module("bench.api_compare", DATABASE.format(size=args.size), "--size", args.size).stdout)
    _python("--role", "cleanup", "--size", args.size)
    _report(results, base, idle, busy, busy_ingest, args, compare)
    return 0


class Batches:
    """Unique NDJSON bodies of `size` events (10,000 unless said): a template made once, with a
    per-request tag in every event_id (a client that made each event would measure itself)."""

    def __init__(self, customers: int, seed: int = 5, size: int = BATCH):
        self.size = size
        rng = np.random.default_rng(seed)
        now = pd.Timestamp.now(tz="UTC").floor("s")
        stamps = (now - pd.to_timedelta(rng.integers(0, 3600, size), unit="s")).strftime("%Y-%m-%d %H:%M:%S")
        kinds = np.array(["page_view", "product_view", "add_to_cart", "login", "purchase", "search"])[rng.integers(0, 6, size)]
        lines = [json.dumps({"event_id": f"apibench-@@-{i}", "customer_id": f"c{rng.integers(1, customers + 1):07d}",
                             "event_type": str(k), "event_value": round(float(rng.uniform(1, 200)), 2),
                             "product_id": f"p{rng.integers(1, 5000):05d}", "category": "books", "timestamp": t})
                 for i, (k, t) in enumerate(zip(kinds, stamps))]
        self.template = ("\n".join(lines) + "\n").encode()
        self.run = f"{time.time_ns():x}"
        self._n = 0
        self._lock = threading.Lock()

    def next(self) -> bytes:
        with self._lock:
            self._n += 1
            tag = f"{self.run}-{self._n}".encode()
        return self.template.replace(b"@@", tag)


def _ingest(url, auth, make: Batches, writers: int, seconds: float | None, stop: threading.Event | None = None,
            spool: bool = False):
    """Events/s through POST /v0/events (wait=true) by `writers` threads, for `seconds` or until stop.
    spool: wait=false to a server with SEGWORK_API_SPOOL=1, and the time runs until the last
    request is written (its job done), so the rate is what the drain sustains."""
    done, errors, spent, last = [0] * writers, [], [], [""] * writers  # spent: (round trip, server's ingest) s per request
    end = time.monotonic() + seconds if seconds else None

    def writer(k: int) -> None:
        with httpx.Client(headers={**auth, "Content-Type": "application/x-ndjson"}, timeout=120) as http:
            while not errors and (time.monotonic() < end if end else not stop.is_set()):
                body = make.next()
                started = time.perf_counter()
                r = http.post(f"{url}/v0/events?name=customer_events" + ("" if spool else "&wait=true"), content=body)
                while spool and r.status_code == 503 and "Retry-After" in r.headers:  # the spool is full: as a client should
                    time.sleep(float(r.headers["Retry-After"]))
                    r = http.post(f"{url}/v0/events?name=customer_events", content=body)
                if r.status_code != (202 if spool else 200) or r.json()["successful_rows"] != BATCH:
                    errors.append(f"{r.status_code} {r.text[:300]}")
                    return
                spent.append((time.perf_counter() - started, _server_ms(r) / 1000 if not spool else 0.0))
                done[k] += BATCH
                last[k] = r.json()["import_id"]
            if spool and last[k]:
                while http.get(f"{url}/v0/jobs/{last[k]}").json().get("status") != "done":
                    time.sleep(0.02)

    seconds = _concurrently(writer, writers)
    if errors:
        raise SystemExit(f"ingestion failed: {errors[0]}")
    return sum(done) / seconds, spent


def _writer_process(url, auth, customers: int, stop, spool: bool, out) -> None:
    """_ingest by one writer until `stop`, in a process of its own (main's busy phase); its result into `out`."""
    out.put(_ingest(url, auth, Batches(customers), 1, None, stop, spool=spool))


def _concurrently(work, n: int) -> float:
    """work(0) .. work(n - 1) on n threads at once; the seconds until all are done."""
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - started


def _server_ms(response) -> float:
    """The engine time the server reported in Server-Timing (ms)."""
    return float(response.headers["Server-Timing"].split("dur=", 1)[1])


def _pipe_calls(customers: int) -> dict:
    from segwork.synth import LOCATIONS

    rng = random.Random(3)
    return {
        "customer_segment_lookup": lambda: f"/v0/pipes/customer_segment_lookup.json?customer_id=c{rng.randint(1, customers):07d}",
        "customer_engagement_analysis": lambda: ("/v0/pipes/customer_engagement_analysis.json?event_type=purchase"
                                                 "&start_date=2026-10-01%2000:00:00&end_date=2026-10-31%2023:59:59&limit=50"),
        "customer_segments_summary": lambda: (f"/v0/pipes/customer_segments_summary.json?location={rng.choice(LOCATIONS)}"
                                              "&min_age=25&max_age=45"),
    }


def _latencies(url, auth, calls: dict, seconds: float) -> dict[str, list[float]]:
    """Milliseconds per call, the three pipes in turn from one client, for `seconds`."""
    times = {name: [] for name in calls}
    times.update({f"{name}/server": [] for name in calls})
    end = time.monotonic() + seconds
    with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
        for name, call in calls.items():  # warm-up
            http.get(call())
        while time.monotonic() < end:
            for name, call in calls.items():
                started = time.perf_counter()
                r = http.get(call())
                times[name].append((time.perf_counter() - started) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"{name}: {r.status_code} {r.text[:300]}")
                times[f"{name}/server"].append(_server_ms(r))
    return times


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _report(results, base, idle, busy, busy_ingest, args, compare) -> None:
    """Print the tables, and keep them in bench/API_RESULTS.md (latest run of each size)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _tables(results, base, idle, busy, busy_ingest, args)
        _compare_table(compare)
    text = out.getvalue()
    print(text)
    _save(args.size + (", spool on" if args.spool else ""), text, args.spool)


def _save(size: str, text: str, spool: bool = False) -> None:
    """`text` as the section of `size` ("S", "M", "S, spool on", ...), the others kept."""
    path = ROOT / "bench" / "API_RESULTS.md"
    parts, small, new = {}, "", text
    if path.exists():
        text, _, small = path.read_text().partition("\n## Small payloads")  # that section is kept as it is, last
        small = "\n## Small payloads" + small if small else ""
        for chunk in text.split("\n## Size ")[1:]:
            parts[chunk.split("\n", 1)[0]] = "## Size " + chunk.rstrip() + "\n"
    command = f"python -m bench.api_bench --size {size[0]}" + (" --spool" if spool else "")
    parts[size] = f"## Size {size}\n\n" + f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `{command}`.\n" + new
    header = "# HTTP API benchmark results\n\nWritten by `bench/api_bench.py`; figures depend on the machine and its load.\n"
    path.write_text(header + "".join("\n" + parts[k] for k in sorted(parts)) + small)


def _tables(results, base, idle, busy, busy_ingest, args) -> None:
    def overhead(spent) -> str:  # client round trip beyond the server's own ingest time
        return f"{statistics.median(t - e for t, e in spent) * 1000:.0f} ms" if spent else "-"

    print(f"\nHTTP API benchmark, size {args.size}, {args.seconds:.0f} s per phase, batches of {BATCH:,} NDJSON events; "
          f"load {_load()}")
    print("\n| ingestion | events/s | vs segwork.ingest alone | HTTP overhead per request (median) |\n|---|---:|---:|---:|")
    print(f"| segwork.ingest, no HTTP (baseline: mean of {base['before']:,.0f} before, {base['after']:,.0f} after) | "
          f"{base['events_per_s']:,.0f} | 1.00x | - |")
    how = ", 202 from the spool, timed until written" if args.spool else ""
    for n, (rate, spent) in results.items():
        print(f"| POST /v0/events{how}, {n} writer(s), empty database | {rate:,.0f} | {rate / base['events_per_s']:.2f}x | {overhead(spent)} |")
    rate, spent = busy_ingest
    print(f"| POST /v0/events{how}, 1 writer, {args.size} data, while pipes are read | {rate:,.0f} | "
          f"{rate / base['events_per_s']:.2f}x | {overhead(spent)} |")
    print("\n| pipe | idle p50 ms | idle p95 ms | during ingestion p50 ms | p95 ms | p95 busy / idle | "
          "engine share of p50, idle | engine's own p95 ms, idle / busy | calls |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in [n for n in idle if not n.endswith("/server")]:
        i50, i95, b50, b95 = _pct(idle[name], 50), _pct(idle[name], 95), _pct(busy[name], 50), _pct(busy[name], 95)
        engine = idle[f"{name}/server"], busy[f"{name}/server"]  # Server-Timing: the engine call alone, as the server timed it
        share = _pct(engine[0], 50) / i50
        print(f"| {name} | {i50:.1f} | {i95:.1f} | {b50:.1f} | {b95:.1f} | {b95 / i95:.2f}x | {share:.0%} | "
              f"{_pct(engine[0], 95):.1f} / {_pct(engine[1], 95):.1f} | {len(idle[name])}/{len(busy[name])} |")


def _compare_table(compare: dict) -> None:
    """Target 2 of issue 16: each pipe's p50 over HTTP within 1.3x of the same library call."""
    print(f"\nPipes over HTTP against the same library call with the same parameters, {compare['rounds']} interleaved "
          "rounds in one process (bench/api_compare.py: the API on a thread, the library beside it); load "
          f"{' '.join(f'{x:.2f}' for x in compare['load_start'])} at the start, "
          f"{' '.join(f'{x:.2f}' for x in compare['load_end'])} at the end.")
    print("\n| pipe | HTTP p50 ms [min - max] | library p50 ms [min - max] | server's own p50 ms | HTTP / library (goal <= 1.3x) |"
          "\n|---|---:|---:|---:|---:|")
    for name, t in compare["times"].items():
        h, lib, srv = (statistics.median(t[k]) for k in ("http", "library", "server"))
        print(f"| {name} | {h:.1f} [{min(t['http']):.1f} - {max(t['http']):.1f}] | {lib:.1f} [{min(t['library']):.1f} - "
              f"{max(t['library']):.1f}] | {srv:.1f} | {h / lib:.2f}x |")


# --- roles run in child processes (the embedded database belongs to one process at a time) ---

def _role(args) -> int:
    from dataclasses import replace

    import segwork
    from segwork.api import pipes, tokens
    from segwork.config import Settings

    settings = replace(Settings.from_env(), dsn=f"chdb://{FOLDER / 'chdb'}")
    if args.role == "baseline":
        client = segwork.connect(settings.resolved_dsn, database="api_baseline", settings=settings)
        from bench.data import SIZES

        make = Batches(SIZES[args.size][0])
        done, started = 0, time.monotonic()
        while time.monotonic() - started < args.seconds:
            report = segwork.ingest(client, "customer_events", make.next(), format="ndjson", settings=settings, source_name="bench")
            done += report.inserted
        rate = done / (time.monotonic() - started)
        client.command("DROP DATABASE api_baseline")
        print(json.dumps({"events_per_s": rate}))
        return 0
    if args.role == "writes":  # the small-payload run's writes, as ingest_log tells them
        client = segwork.connect(settings.resolved_dsn, database=INGEST_DATABASE, settings=settings)
        w = client.query_df(
            "SELECT f.updated_at AS at, count() AS requests, sum(f.rows_read) AS rows, "
            "max(dateDiff('millisecond', s.updated_at, f.updated_at)) AS ms FROM ingest_log AS f "
            "INNER JOIN ingest_log AS s ON s.ingest_id = f.ingest_id AND s.status = 'started' "
            "WHERE f.status = 'finished' GROUP BY f.updated_at")
        print(json.dumps({"writes": len(w), "requests": int(w.requests.sum()), "max_requests": int(w.requests.max()),
                          "max_rows": int(w.rows.max()), "median_rows": float(w.rows.median()),
                          "max_ms": float(w.ms.max()), "median_ms": float(w.ms.median())}))
        return 0
    database = DATABASE.format(size=args.size)
    client = segwork.connect(settings.resolved_dsn, database=database, settings=settings)
    client.command("DELETE FROM customer_events WHERE startsWith(event_id, 'apibench-')")  # earlier runs' writes
    client.command(f"DROP DATABASE IF EXISTS {INGEST_DATABASE}")
    if args.role == "cleanup":
        return 0
    counts = dict(client.query("SELECT 'events', count() FROM customer_events UNION ALL "
                               "SELECT 'customers', uniqExact(customer_id) FROM customers").result_rows)
    out = {"events": counts["events"], "customers": counts["customers"]}
    for name, key in ((database, "token"), (INGEST_DATABASE, "ingest_token")):
        c = segwork.connect(settings.resolved_dsn, database=name, settings=settings)
        if any(t.name == "bench" and not t.revoked for t in tokens.list_all(c)):
            tokens.revoke(c, "bench")
        out[key], _ = tokens.create(c, "bench", ["ADMIN"], {}, pipes.PIPES)
    print(json.dumps(out))
    return 0


def _load_data(url, auth, ds) -> None:
    for table, path in (("customers", ds.customers_parquet), ("customer_events", ds.events_parquet)):
        started = time.monotonic()
        with open(path, "rb") as f:
            r = httpx.post(f"{url}/v0/datasources?name={table}&mode=append", headers=auth,
                           files={"parquet": (path.name, f)}, timeout=3600)
        if r.status_code != 200:
            raise SystemExit(f"loading {table} failed: {r.status_code} {r.text[:300]}")
        log(f"  loaded {r.json()['successful_rows']:,} {table} rows through POST /v0/datasources in {time.monotonic() - started:.1f} s")


def _env(database: str = INGEST_DATABASE) -> dict:
    env = {**os.environ, "SEGWORK_DSN": f"chdb://{FOLDER / 'chdb'}", "SEGWORK_DATABASE": database,
           "SEGWORK_API_RATE_LIMIT": str(10**7), "SEGWORK_API_MAX_UPLOAD_BYTES": str(4 * 1024**3)}
    return env


def _run_module(module: str, database: str, *args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=_env(database), capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{module} {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def _python(*args) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "bench.api_bench", *args], cwd=ROOT, env=_env(), capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"bench.api_bench {' '.join(args)} failed:\n{proc.stderr}")
    return proc


_served: list[int] = []  # ports of the servers this process started (the first one starts SERVER_LOG afresh)


def _serve(port: int, database: str, **extra: str) -> subprocess.Popen:
    """`segwork serve` on the benchmark's engine folder; `extra`: more environment (SEGWORK_API_SPOOL=...).
    Its log (a 500's traceback under the reference the answer gives) goes to SERVER_LOG: this bench
    process's servers one after another (~10 MB for `--only small`), the previous process's dropped."""
    SERVER_LOG.parent.mkdir(parents=True, exist_ok=True)
    with SERVER_LOG.open("ab" if _served else "wb") as log:
        _served.append(port)
        log.write(f"--- segwork serve on port {port}, {database}, {extra}\n".encode())
        log.flush()
        proc = subprocess.Popen([sys.executable, "-m", "segwork", "serve", "--port", str(port)], cwd=ROOT,
                                env={**_env(database), "SEGWORK_DATA_DIR": str(FOLDER), **extra},
                                stdout=log, stderr=log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v0/pipes", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit("the API server did not start; run `python -m segwork serve` to see why")
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the API server did not answer within 120 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
