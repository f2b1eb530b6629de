"""Hostile input against a real `python -m segwork serve` process: nothing crashes, stalls or leaks.

One server for the module (loopback, a free port, its own embedded database in a temporary
folder, a token created first). Every request has a timeout; after each case the process is
still alive and a normal pipe call still answers quickly.
"""
from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from segwork.config import PROJECT_DIR

from tests.apikit import events, ndjson

TIMEOUT = 30.0  # seconds any one request may take before the case fails
QUICK = 1.0  # seconds a pipe call may take beyond its idle time while the server is under attack
PIPE = "/v0/pipes/customer_segment_lookup.json?customer_id=nobody"


@dataclass
class Served:
    """The serve process and what the cases need around it."""

    base: str
    admin: str = field(repr=False)
    proc: subprocess.Popen
    env: dict
    log: Path
    idle: float = 0.0  # median time of a pipe call on the idle server
    sent: dict = field(default_factory=dict)

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin}"}

    def pipe_seconds(self) -> float:
        """Time of one normal pipe call; it must succeed."""
        started = time.perf_counter()
        r = httpx.get(self.base + PIPE, headers=self.auth(), timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        return time.perf_counter() - started

    def assert_healthy(self) -> None:
        """The process is alive and a normal pipe call answers quickly."""
        assert self.proc.poll() is None, f"the server died:\n{self.log.read_text()[-3000:]}"
        seconds = self.pipe_seconds()
        assert seconds < self.idle + QUICK, f"a pipe call took {seconds:.2f} s after the case (idle: {self.idle:.3f} s)"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`python -m segwork serve` on 127.0.0.1 and a free port, on a fresh embedded database."""
    folder = tmp_path_factory.mktemp("hostile")
    env = {**os.environ, "SEGWORK_DATA_DIR": str(folder)}
    env.pop("SEGWORK_DSN", None)  # the test process's in-memory engine is not the server's
    made = subprocess.run([sys.executable, "-m", "segwork", "token", "create", "admin", "--scope", "ADMIN"], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    admin = made.stdout.strip().splitlines()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = folder / "serve.log"
    with open(log, "wb") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "segwork", "serve", "--host", "127.0.0.1", "--port", str(port)],
                                cwd=PROJECT_DIR, env=env, stdout=sink, stderr=subprocess.STDOUT)
    srv = Served(f"http://127.0.0.1:{port}", admin, proc, env, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(srv.base + PIPE, headers=srv.auth(), timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, f"serve did not start:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
        srv.idle = sorted(srv.pipe_seconds() for _ in range(5))[2]
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _gzip_bomb() -> bytes:
    """About 100 KB that inflates to just under the default 100 MiB limit (blank lines: a 400)."""
    return gzip.compress(b"\n" * (100 * 1024 * 1024 - 16), compresslevel=6)


# --- the event loop is never blocked by a body -----------------------------------------

def test_a_slow_body_does_not_delay_another_clients_pipe(served):
    """While two clients post bodies that take seconds of CPU to inflate and inspect, another
    client's pipe calls answer as fast as on an idle server, give or take QUICK.

    Not a test of speed: the bound is ten times a pipe call's idle time and more. Before the
    body work left the event loop, each pipe call waited behind whole bodies (1-2 s each)."""
    bomb = _gzip_bomb()
    answers: list[int] = []

    def post_bombs() -> None:
        with httpx.Client(headers={**served.auth(), "Content-Encoding": "gzip"}, timeout=TIMEOUT) as http:
            for _ in range(2):
                answers.append(http.post(f"{served.base}/v0/events?name=customer_events", content=bomb).status_code)

    posters = [threading.Thread(target=post_bombs) for _ in range(2)]
    for t in posters:
        t.start()
    worst, calls = 0.0, 0
    deadline = time.monotonic() + 2 * TIMEOUT
    while any(t.is_alive() for t in posters) and time.monotonic() < deadline:
        worst = max(worst, served.pipe_seconds())
        calls += 1
    for t in posters:
        t.join(timeout=TIMEOUT)
    assert answers == [400] * 4  # blank lines only: "the body is empty"
    assert worst < served.idle + QUICK, (f"a pipe call took {worst:.2f} s while bodies were inflated "
                                         f"({worst / served.idle:.0f}x its idle {served.idle * 1000:.0f} ms)")
    assert calls >= 3, "the pipe calls did not overlap the bodies"
    served.assert_healthy()


def test_a_body_whose_client_left_is_not_ingested(served):
    """A client sends a whole body and hangs up before the answer: nothing is stored, and the
    server logs why."""
    body = gzip.compress(ndjson(events(20_000, prefix="gone-", start="2019-01-01", seconds=86400)))
    head = (f"POST /v0/events?name=customer_events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {served.admin}\r\n"
            f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", int(served.base.rsplit(":", 1)[1])), timeout=TIMEOUT) as s:
        s.sendall(head + body)
    deadline = time.monotonic() + TIMEOUT
    while b"went away before its body was ingested" not in served.log.read_bytes():
        assert _stored_2019(served) == [], "the body of a client that had left was ingested"
        assert time.monotonic() < deadline, f"no log line for the body:\n{served.log.read_text()[-2000:]}"
        time.sleep(0.1)
    assert _stored_2019(served) == []
    served.assert_healthy()


def _stored_2019(served: Served) -> list[dict]:
    r = httpx.get(f"{served.base}/v0/pipes/customer_engagement_analysis.json",
                  params={"start_date": "2019-01-01", "end_date": "2019-01-02", "limit": 10}, headers=served.auth(), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()["data"]
