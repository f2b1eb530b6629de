"""The API's log lines (one per request) are written by a thread of their own, never by the
thread that logs them (the event loop's): segwork.api.accesslog.logging_off_the_loop. That the
served API's lines still reach its stderr is checked by tests/test_hostile_api.py (it waits for
"went away before its body was ingested" in the server's log)."""
from __future__ import annotations

import io
import logging
import sys
import threading
import time

from segwork.api import accesslog


class _Recorder(io.StringIO):
    """stderr that notes which thread wrote each piece."""

    def __init__(self):
        super().__init__()
        self.writers: list[str] = []

    def write(self, text: str) -> int:
        self.writers.append(threading.current_thread().name)
        return super().write(text)


def test_lines_are_written_off_the_logging_thread(monkeypatch):
    err = _Recorder()
    monkeypatch.setattr(sys, "stderr", err)
    root = logging.getLogger()
    before = root.handlers[:]
    with accesslog.logging_off_the_loop():
        logging.getLogger("segwork.api").info("%s %s %s %.1f ms", "POST", "/v0/events", 202, 1.25)
        logging.getLogger("segwork.api").debug("not at INFO: not written")
    text = err.getvalue()
    assert "INFO segwork.api: POST /v0/events 202 1.2 ms" in text  # formatted as before, every line kept
    assert "not written" not in text
    assert err.writers and threading.current_thread().name not in err.writers
    assert root.handlers == before  # the process's logging is as it was after the block



class _Stalled(io.StringIO):
    """stderr that nobody reads: a write waits until released."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait(2)
        return super().write(text)


def test_a_stalled_stderr_never_makes_the_logging_thread_wait(monkeypatch):
    err = _Stalled()
    monkeypatch.setattr(sys, "stderr", err)
    log = logging.getLogger("segwork.api")
    with accesslog.logging_off_the_loop(backlog=50) as handler:
        started = time.perf_counter()
        for k in range(60):
            log.info("GET /v0/pipes %d", k)
        took = time.perf_counter() - started
        # the listener holds one line at the stalled write; 50 wait in the queue; the rest are dropped, counted
        assert 9 <= handler.dropped <= 10
        err.release.set()
    assert took < 1.5  # a write waits up to 2 s: had the logging thread written, 60 lines would take 2 minutes
    written = err.getvalue()
    assert "GET /v0/pipes 0\n" in written and written.count("GET /v0/pipes") == 60 - handler.dropped
