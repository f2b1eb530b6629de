"""One engine per process for the workbench: a small pool of clients shared by every session.

A clickhouse-connect client serialises its calls with a lock, so sessions that shared one
client would wait on each other's queries; the pool lends each thread its own client
(several clients on one embedded path run in parallel). The pool also carries the data
generation that cached query results are keyed by: an ingest bumps it.
"""
from __future__ import annotations

import queue
import threading
from contextlib import contextmanager
from typing import Iterator

import streamlit as st
from clickhouse_connect.driver.client import Client

from segwork.config import Settings
from segwork.db import connect, describe_engine
from segwork.errors import EngineError

POOL_SIZE = 4
WAIT_SECONDS = 120


class ClientPool:
    """Up to `size` clients on one engine, each lent to one thread at a time."""

    def __init__(self, settings: Settings, size: int = POOL_SIZE):
        self.settings = settings
        self.size = size
        self.generation = 0  # bumped after each ingest; part of every cached result's key
        self._idle: queue.LifoQueue[Client] = queue.LifoQueue()
        self._made = 0
        self._lock = threading.Lock()
        self._description: str | None = None

    @contextmanager
    def client(self) -> Iterator[Client]:
        """Borrow a client for the duration of the block."""
        client = self._take()
        try:
            yield client
        finally:
            self._idle.put(client)

    def describe(self) -> str:
        """The engine in use, in words (embedded path or server)."""
        if self._description is None:
            with self.client() as c:
                self._description = describe_engine(c)
        return self._description

    def data_changed(self) -> None:
        """Invalidate every cached result of this engine (after an ingest)."""
        with self._lock:
            self.generation += 1

    def _take(self) -> Client:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            make = self._made < self.size
            if make:
                self._made += 1
        if make:
            try:
                return connect(settings=self.settings)
            except BaseException:
                with self._lock:
                    self._made -= 1
                raise
        try:
            return self._idle.get(timeout=WAIT_SECONDS)
        except queue.Empty:
            raise EngineError(f"all {self.size} database connections stayed busy for {WAIT_SECONDS} s; "
                              "wait for the running queries or ingests to finish and retry") from None


def settings() -> Settings:
    """The process's settings (SEGWORK_* variables, read by segwork.config)."""
    return Settings.from_env()


def pool(current: Settings | None = None) -> ClientPool:
    """The shared pool for the configured engine and database (one per process)."""
    s = current or settings()
    return _pool(s.resolved_dsn, s.database, _settings=s)


@st.cache_resource(show_spinner=False)
def _pool(dsn: str, database: str, _settings: Settings) -> ClientPool:
    return ClientPool(_settings)
