"""The API process's logging: records are queued by the thread that logs them and written to
stderr by a thread of their own, so no log line is written on the event loop (a write to a
file waits whenever the disk does; one to a pipe nobody reads, forever). Measured in README's
Performance section."""
from __future__ import annotations

import logging
import logging.handlers
import queue
import threading
import time
from contextlib import contextmanager
from typing import Iterator

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Queued(logging.handlers.QueueHandler):
    """Puts records in a bounded queue; when it is full (stderr not being read) a record is
    dropped and counted rather than waited for."""

    def __init__(self, records: queue.Queue):
        super().__init__(records)
        self.dropped = 0

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


@contextmanager
def off_the_loop(level: int = logging.INFO, backlog: int = 10_000, patience: float = 5.0) -> Iterator[_Queued]:
    """Within the block, every record that reaches the root logger is queued (at most `backlog`;
    beyond that dropped and counted in the handler's `dropped`) and written to stderr by a
    listener thread. Leaving the block writes what is queued, waiting at most about 2 x
    `patience` seconds for a stderr that stalls; then the root logger is as it was."""
    records: queue.Queue = queue.Queue(backlog)
    out = logging.StreamHandler()
    out.setFormatter(logging.Formatter(FORMAT))
    listener = logging.handlers.QueueListener(records, out, respect_handler_level=True)
    handler = _Queued(records)
    root = logging.getLogger()
    before = root.handlers[:], root.level
    root.handlers = [handler]
    root.setLevel(level)  # setLevel, not .level: it clears the loggers' cached isEnabledFor answers
    listener.start()
    try:
        yield handler
    finally:
        deadline = time.monotonic() + patience
        while not records.empty() and time.monotonic() < deadline:
            time.sleep(0.01)
        if handler.dropped:  # through the queue, while it is still there
            logging.getLogger("segwork.api").warning("%d log line(s) were dropped: stderr was not being read", handler.dropped)
        stopping = threading.Thread(target=_stop, args=(listener,), daemon=True, name="segwork-log-stop")
        stopping.start()
        stopping.join(patience)  # a write stalled for good keeps the listener (a daemon thread), not the process
        root.handlers = before[0]
        root.setLevel(before[1])


def _stop(listener: logging.handlers.QueueListener) -> None:
    try:
        listener.stop()
    except queue.Full:  # no room for its end marker: stderr stalled with the queue full
        pass
