"""The Events API's batching writer: concurrent small NDJSON requests to one table are read,
validated and written together (segwork.ingestion.joined), each answered with its own report
once its rows are written (or with the error that refused it alone, e.g. no event_id at all).

A request's decoded body is queued. One flush at a time per table takes every request queued
(up to `max_rows` rows), reads them as one input, validates them in one pandera call and writes
them in one insert, on one of the API's threads;
requests that arrive meanwhile wait for the next flush. So nothing is held back to make a batch
bigger: a lone request is written at once, and under load a flush carries what came during the
one before it (group commit). Every answer, 200 or 202, comes after the write: a crash of the
process loses no answered row, only requests not yet answered (their clients retry; the rows
that had gone in are then counted as duplicates).
"""
from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from segwork import db
from segwork.config import Settings
from segwork.errors import SegworkError
from segwork.ingestion import joined
from segwork.ingestion.report import IngestReport


class Coalescer:
    """Queues of requests per (event loop, table), flushed one at a time per table on
    `pool`'s threads (the API's: each thread keeps its engine client)."""

    def __init__(self, settings: Settings, pool: ThreadPoolExecutor, max_rows: int):
        self.settings, self.pool, self.max_rows = settings, pool, max(int(max_rows), 1)
        self._queues: dict[tuple, list[tuple[joined.Body, int, asyncio.Future]]] = {}
        self._flushing: dict[tuple, asyncio.Task] = {}

    async def ingest(self, table: str, body: joined.Body) -> IngestReport:
        """Queue an NDJSON body; its report once its rows are written (or the error that refused it,
        or the flush's)."""
        loop = asyncio.get_running_loop()
        key = (loop, table)
        done = loop.create_future()
        self._queues.setdefault(key, []).append((body, body.data.count(b"\n") + 1, done))
        task = self._flushing.get(key)
        if task is None or task.done():
            self._flushing[key] = loop.create_task(self._flush_all(key))
        return await asyncio.shield(done)  # a request cancelled while queued still has its rows written

    async def _flush_all(self, key: tuple) -> None:
        loop, table = key
        queue = self._queues[key]
        while queue:
            taken, rows = 0, 0
            while taken < len(queue) and (taken == 0 or rows + queue[taken][1] <= self.max_rows):
                rows += queue[taken][1]
                taken += 1
            flush, queue[:taken] = queue[:taken], []
            bodies = [b for b, _, _ in flush]
            try:
                results = await loop.run_in_executor(self.pool, functools.partial(_flush, self.settings, table, bodies))
            except BaseException as exc:  # noqa: BLE001 - every request of the flush gets the error
                for _, _, done in flush:
                    if not done.done():
                        done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, _, done), result in zip(flush, results):
                if not done.done():
                    done.set_exception(result) if isinstance(result, SegworkError) else done.set_result(result)
        self._queues.pop(key, None)
        self._flushing.pop(key, None)


def _flush(settings: Settings, table: str, bodies: list[joined.Body]) -> list:
    """One flush, on an API thread with that thread's client: each body's report or error."""
    return joined.write_bodies(db.thread_client(settings=settings), table, bodies, settings)
