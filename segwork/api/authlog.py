"""Failed authentications (401 no token, 403 unknown or revoked token), counted per client.

A token-guessing burst shows up in the log without flooding it: the first failure after a quiet
spell is logged at once, then failures are summed up at most once per LOG_EVERY_SECONDS, one
WARNING line per client with how many came since its previous line (the MAX_LINES biggest, the
rest in one line); never the token. The client is the peer address (behind a proxy, the
proxy's). At most MAX_CLIENTS addresses are tracked: the one that failed least recently is
folded into OTHER, so memory stays bounded however many addresses a guesser rotates through.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

log = logging.getLogger("segwork.api")
LOG_EVERY_SECONDS = 60.0
MAX_CLIENTS = 1024
MAX_LINES = 10
OTHER = "(clients no longer tracked)"


@dataclass
class _Client:
    """Failures of one client: in all, and since its previous log line."""

    first_at: datetime
    last_at: datetime
    last_status: int
    failures: int = 0
    unlogged: int = 0
    logged_at: datetime | None = None

    def add(self, failures: int, unlogged: int, status: int, at: datetime) -> None:
        self.failures += failures
        self.unlogged += unlogged
        self.last_status, self.last_at = status, at


class AuthFailures:
    """Per-client counts of failed authentications and their log lines; thread-safe."""

    def __init__(self, every_s: float = LOG_EVERY_SECONDS, max_clients: int = MAX_CLIENTS, max_lines: int = MAX_LINES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s, self.max_clients, self.max_lines = every_s, max(int(max_clients), 1), max(int(max_lines), 1)
        self._clock = clock
        self._lock = threading.Lock()
        self._clients: OrderedDict[str, _Client] = OrderedDict()  # least recently failed first
        self._other: _Client | None = None
        self._unlogged = 0
        self._reported_at = float("-inf")

    def failed(self, client: str, status: int) -> None:
        """Count one failed authentication from `client` (its address), and log if it is time."""
        now = datetime.now(timezone.utc)
        with self._lock:
            entry = self._clients.pop(client, None) or _Client(now, now, status)
            entry.add(1, 1, status, now)
            self._clients[client] = entry
            self._unlogged += 1
            if len(self._clients) > self.max_clients:
                _, gone = self._clients.popitem(last=False)
                self._other = self._other or _Client(gone.first_at, gone.last_at, gone.last_status)
                self._other.add(gone.failures, gone.unlogged, gone.last_status, gone.last_at)
        self.check()

    def check(self) -> None:
        """Log the failures not yet logged when the previous lines are LOG_EVERY_SECONDS old (cheap: every request)."""
        if self._unlogged and self._clock() - self._reported_at >= self.every_s:
            self.flush()

    def flush(self) -> None:
        """Log every failure not yet logged, now (at shutdown)."""
        with self._lock:
            self._reported_at = self._clock()
            due = [(c, e) for c, e in self._clients.items() if e.unlogged]
            if self._other is not None and self._other.unlogged:
                due.append((OTHER, self._other))
            due.sort(key=lambda ce: -ce[1].unlogged)
            shown, rest = due[:self.max_lines], due[self.max_lines:]
            lines = [_line(c, e) for c, e in shown]
            if rest:
                lines.append(f"{sum(e.unlogged for _, e in rest)} failed authentications (401/403) from "
                             f"{len(rest)} more clients since the previous lines")
            now = datetime.now(timezone.utc)
            for _, entry in shown + rest:
                entry.unlogged, entry.logged_at = 0, now
            self._unlogged = 0
        for line in lines:
            log.warning(line)

    def snapshot(self) -> list[dict]:
        """Every tracked client's failures, most first (for GET /v0/tokens with an ADMIN token)."""
        with self._lock:
            entries = list(self._clients.items()) + ([(OTHER, self._other)] if self._other else [])
        return [{"client": c, "failures": e.failures, "first_at": _time(e.first_at), "last_at": _time(e.last_at),
                 "last_status": e.last_status} for c, e in sorted(entries, key=lambda ce: -ce[1].failures)]


def peer(request) -> str:
    """The client's address as the connection gives it (X-Forwarded-For and the like can be forged)."""
    return request.client.host if request.client else "unknown"


def _line(client: str, entry: _Client) -> str:
    since = _time(entry.logged_at or entry.first_at)
    return (f"{entry.unlogged} failed authentication{'s' if entry.unlogged > 1 else ''} (401/403) from {client} since "
            f"{since} UTC ({entry.failures} in all since {_time(entry.first_at)} UTC, last {entry.last_status})")


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S")
