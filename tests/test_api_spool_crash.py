"""kill -9 of `python -m segwork serve` with SEGWORK_API_SPOOL=1 while 8 clients post single
events: after the next start every event answered 202 is stored once, and each answered request
is logged 'finished' once."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from segwork.api.spool import Spool

from tests.apikit import free_port, serve

ROOT = Path(__file__).resolve().parent.parent
COUNTS = ("import json, segwork; c = segwork.connect(); "
          "n = c.query('SELECT count(), uniqExact(event_id) FROM customer_events').result_rows[0]; "
          "ids = sorted(c.query_df('SELECT event_id FROM customer_events').event_id); "
          "log = c.query_df(\"SELECT ingest_id, count() AS n FROM ingest_log WHERE status = 'finished' GROUP BY ingest_id\"); "
          "print(json.dumps({'count': n[0], 'distinct': n[1], 'ids': ids, 'finished': dict(zip(log.ingest_id, map(int, log.n)))}))")


def _env(data_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGWORK_")}
    env.update(SEGWORK_DATA_DIR=str(data_dir), SEGWORK_API_SPOOL="1", SEGWORK_API_RATE_LIMIT="10000000")
    return env


def test_kill_9_after_202_answers_loses_and_doubles_nothing(tmp_path):
    env = _env(tmp_path)
    made = subprocess.run([sys.executable, "-m", "segwork", "token", "create", "w", "--scope", "DATASOURCES:APPEND:customer_events"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    token = [w for w in made.stdout.split() if w.startswith("sw_")][0]
    port = free_port()
    proc = serve(env, port)
    answered: dict[str, str] = {}  # event_id -> import_id of its 202
    sent: set[str] = set()
    stop = threading.Event()

    def client(k: int) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            for n in range(100_000):
                if stop.is_set():
                    return
                eid = f"k{k}-{n}"
                sent.add(eid)
                body = json.dumps({"event_id": eid, "customer_id": f"c{n % 50}", "event_type": "page_view",
                                   "timestamp": "2026-11-30 10:00:00"}).encode()
                try:
                    r = http.post(f"http://127.0.0.1:{port}/v0/events?name=customer_events", content=body)
                except httpx.TransportError:
                    return  # the server died under this request: not answered
                assert r.status_code == 202, r.text
                answered[eid] = r.json()["import_id"]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(answered) < 300 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # while the clients still post
    proc.wait(30)
    stop.set()
    for t in threads:
        t.join(30)
    assert len(answered) >= 300
    spool = Spool(tmp_path / "spool")
    unwritten = sum(int(r.meta["rows"]) for r in spool.read(spool.checkpointed, spool.end(), 10**9)[0])
    spool.close()
    print(f"{len(answered)} events answered, {unwritten} of what was on disk not yet written at the kill")

    proc = serve(env, port)  # the next start writes what was spooled
    proc.send_signal(signal.SIGINT)  # a clean stop writes everything spooled first
    assert proc.wait(120) == 0
    out = subprocess.run([sys.executable, "-c", COUNTS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout.strip().splitlines()[-1])
    stored = set(counts["ids"])
    assert counts["count"] == counts["distinct"] == len(stored)  # nothing twice
    assert set(answered) <= stored <= sent  # every answered event in; nothing that was never sent
    assert all(counts["finished"].get(i) == 1 for i in set(answered.values()))  # each answered request logged once
