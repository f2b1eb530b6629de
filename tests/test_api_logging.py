"""The API process's log lines (one per request) are written by a thread of their own, never by
the thread that logs them (the event loop's): segwork.api.logs.off_the_loop. That a served
API's lines, uvicorn's own among them, still reach its stderr through it is checked in
tests/test_hostile_api.py."""
from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading

import httpx

from segwork.api import logs
from segwork.config import PROJECT_DIR

from tests.apikit import free_port, serve


class _Recorder(io.StringIO):
    """stderr that notes which thread wrote each piece; with `stalled`, a write waits until
    `release` is set (or 30 s): a stderr nobody reads."""

    def __init__(self, stalled: bool = False):
        super().__init__()
        self.writers: list[str] = []
        self.release = threading.Event()
        if not stalled:
            self.release.set()

    def write(self, text: str) -> int:
        self.writers.append(threading.current_thread().name)
        self.release.wait(30)
        return super().write(text)


def test_lines_are_written_off_the_logging_thread(monkeypatch):
    err = _Recorder()
    monkeypatch.setattr(sys, "stderr", err)
    api = logging.getLogger("segwork.api")
    root = logging.getLogger()
    before = root.handlers[:], root.level
    root.setLevel(logging.WARNING)
    api.info("before the block, at WARNING: not written")  # caches 'INFO is off' in the logger
    try:
        with logs.off_the_loop():
            api.info("%s %s %s %.1f ms", "POST", "/v0/events", 202, 1.25)
            api.debug("not at INFO: not written")
        api.info("after the block, at WARNING again: not written")
        assert root.handlers == before[0] and root.level == logging.WARNING  # as it was before the block
    finally:
        root.setLevel(before[1])
    text = err.getvalue()
    assert "INFO segwork.api: POST /v0/events 202 1.2 ms" in text  # formatted as before, every line kept
    assert "not written" not in text
    assert err.writers and threading.current_thread().name not in err.writers


def test_a_stalled_stderr_never_makes_the_logging_thread_wait(monkeypatch):
    err = _Recorder(stalled=True)
    monkeypatch.setattr(sys, "stderr", err)
    log = logging.getLogger("segwork.api")
    with logs.off_the_loop(backlog=50) as handler:
        for k in range(60):
            log.info("GET /v0/pipes %d", k)
        # the listener holds one line at the stalled write; 50 wait in the queue; the rest are dropped, counted
        assert 9 <= handler.dropped <= 10
        assert threading.current_thread().name not in err.writers  # had this thread written, it would wait here
        err.release.set()
    written = err.getvalue()
    assert "GET /v0/pipes 0\n" in written and written.count("GET /v0/pipes") == 60 - handler.dropped
    assert f"{handler.dropped} log line(s) were dropped: stderr was not being read" in written


def test_leaving_the_block_does_not_wait_for_a_stderr_that_stays_stalled(monkeypatch):
    err = _Recorder(stalled=True)
    monkeypatch.setattr(sys, "stderr", err)
    root = logging.getLogger()
    before = root.handlers[:]

    def serve() -> None:
        with logs.off_the_loop(patience=0.2):
            logging.getLogger("segwork.api").info("GET /v0/pipes")

    served = threading.Thread(target=serve, daemon=True)
    served.start()
    served.join(20)  # a stderr stalled for 30 s: the block must not wait for it
    try:
        assert not served.is_alive(), "leaving the block waited for a stalled stderr"
        assert root.handlers == before
    finally:
        err.release.set()


def test_a_served_api_whose_stderr_nobody_reads_keeps_answering(tmp_path):
    """`segwork serve` with its stderr a pipe nobody reads: 1,500 requests log ~130 KB, twice what
    the pipe holds. Written in place, the line that filled the pipe blocked the event loop and
    every later request timed out; queued, they are all answered (the lines beyond the backlog dropped)."""
    env = {**os.environ, "SEGWORK_DATA_DIR": str(tmp_path), "SEGWORK_API_RATE_LIMIT": "1000000"}
    env.pop("SEGWORK_DSN", None)  # the test process's in-memory engine is not the server's
    made = subprocess.run([sys.executable, "-m", "segwork", "token", "create", "admin", "--scope", "ADMIN"], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    port = free_port()
    proc = serve(env, port, stderr=subprocess.PIPE)  # never read
    url = f"http://127.0.0.1:{port}/v0/pipes/customer_segment_lookup.json"
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=20) as http:
            answered = sum(http.get(url, params={"customer_id": "nobody"}).status_code == 200 for _ in range(1_500))
        assert answered == 1_500
    finally:
        proc.kill()
        proc.wait()
