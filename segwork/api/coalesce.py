"""The Events API's batching writer: concurrent small requests to one table are validated and
written together (segwork.ingestion.batch), each answered with its own report once its rows
are written.

A request's body is read on an API thread (its own format, encoding and line numbers), then
queued. One flush at a time per table takes every request queued (up to `max_rows` rows),
validates them in one pandera call and writes them in one insert, on one of the API's threads;
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
from segwork.ingestion import batch
from segwork.ingestion.report import IngestReport


class Coalescer:
    """Queues of prepared requests per (event loop, table), flushed one at a time per table on
    `pool`'s threads (the API's: each thread keeps its engine client)."""

    def __init__(self, settings: Settings, pool: ThreadPoolExecutor, max_rows: int):
        self.settings, self.pool, self.max_rows = settings, pool, max(int(max_rows), 1)
        self._queues: dict[tuple, list[tuple[batch.Prepared, asyncio.Future]]] = {}
        self._flushing: dict[tuple, asyncio.Task] = {}

    async def ingest(self, table: str, prepared: batch.Prepared) -> IngestReport:
        """Queue a prepared request; its report once its rows are written (or the flush's error)."""
        loop = asyncio.get_running_loop()
        key = (loop, table)
        done = loop.create_future()
        self._queues.setdefault(key, []).append((prepared, done))
        task = self._flushing.get(key)
        if task is None or task.done():
            self._flushing[key] = loop.create_task(self._flush_all(key))
        return await asyncio.shield(done)  # a request cancelled while queued still has its rows written

    async def _flush_all(self, key: tuple) -> None:
        loop, table = key
        queue = self._queues[key]
        while queue:
            taken, rows = 0, 0
            while taken < len(queue) and (taken == 0 or rows + queue[taken][0].rows <= self.max_rows):
                rows += queue[taken][0].rows
                taken += 1
            flush, queue[:taken] = queue[:taken], []
            items = [p for p, _ in flush]
            try:
                await loop.run_in_executor(self.pool, functools.partial(_flush, self.settings, table, items))
            except BaseException as exc:  # noqa: BLE001 - every request of the flush gets the error
                for _, done in flush:
                    if not done.done():
                        done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for item, done in flush:
                if not done.done():
                    done.set_result(item.report)
        self._queues.pop(key, None)
        self._flushing.pop(key, None)


def _flush(settings: Settings, table: str, items: list[batch.Prepared]) -> None:
    """One flush, on an API thread with that thread's client."""
    block = batch.validate_many(table, items)
    batch.write_many(db.thread_client(settings=settings), table, items, block)
