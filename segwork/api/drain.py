"""The spool's writer: a thread that reads what segwork.api.spool committed and writes it into
the database in large batches (segwork.ingestion.batch: one pandera call and one insert for many
requests), each request keeping its import_id, counts, quarantine line numbers and ingest log
rows, as if it had been answered after its write.

Exactness: the checkpoint moves only after a batch is written. A crash between the write and
the checkpoint writes those records again at the next start: their events are found stored
(event_id), and a request whose import_id the ingest log already has 'finished' is skipped, so
its counts are not logged twice. A request that cannot be read (no rows, a required column
missing) is logged 'failed' with the reason; its job says so. A batch the engine refuses is
retried (waits 0.5 s doubling to 30 s); from the third try its requests are written one by one,
so one request that keeps failing is logged 'failed' and kept in <spool>/failed.ndjson (its
body, for a person to look at) instead of holding up the others.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from datetime import datetime

from segwork import db
from segwork.config import Settings
from segwork.errors import SegworkError
from segwork.ingestion import ingestlog, joined
from segwork.ingestion.report import IngestReport
from segwork.api.spool import Record, Spool

log = logging.getLogger("segwork.api.drain")
ISOLATE_AFTER = 2  # failed tries of a batch before its requests are written one by one
LINGER_S = 0.25  # after a write, a smaller backlog waits this long to grow: a write's fixed cost (pandera, four
                 # inserts, the parts they make and the engine's merges of them) is then paid ~4 times a second.
                 # 8 clients of single events (wrk, 2026-12-02, load ~2; server CPU per request, all threads):
                 # 0.1 s 0.56-0.86 ms (1,543-2,093 requests/s, 6 runs; merges 0.05-0.18 ms of it), 0.2-0.3 s
                 # 0.39-0.53 ms (2,110-2,743/s, 5 runs; merges under 0.01 ms), 0.5 and 1.0 s no better (a run
                 # each). The price: a 202's rows are written ~0.15 s later. Without any linger, at load ~6,
                 # ~1.5 ms per event.


class Drainer:
    """Writes the spool's records from its checkpoint on, in a thread of its own."""

    def __init__(self, spool: Spool, settings: Settings, max_rows: int | None = None):
        self.spool, self.settings = spool, settings
        self.max_rows = max_rows or settings.chunk_rows
        self.queued: dict[str, dict] = {}  # import_id -> metadata, answered and not yet written
        self._replay_until = spool.end()  # records before this were spooled by an earlier process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="segwork-drain", daemon=True)
        self._thread.start()

    def queue(self, meta: dict) -> None:
        self.queued[meta["id"]] = meta

    def wait_idle(self, timeout: float) -> bool:
        """True once everything committed so far is written (False after `timeout` s)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.spool.checkpointed >= self.spool.end():
                return True
            time.sleep(0.01)
        return False

    def stop(self, timeout: float = 30.0) -> None:
        """Write what is committed (for at most `timeout` s), then stop; the rest waits for the next start.
        A drain already stopped writes nothing more: it does not wait."""
        if not self._stop.is_set():
            self.wait_idle(timeout)
        self._stop.set()
        with self.spool.committed:
            self.spool.committed.notify_all()
        self._thread.join(timeout=5)

    # --- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        position, tries = self.spool.checkpointed, 0
        while not self._stop.is_set():
            with self.spool.committed:
                if position >= self.spool.end():
                    self.spool.committed.wait(timeout=1.0)
                    continue
            end = self.spool.end()
            try:
                records, reached = self.spool.read(position, end, self.max_rows)
            except OSError as exc:  # the disk: nothing lost, try again
                log.error("spool: reading at %s failed: %s", position, exc)
                self._stop.wait(1.0)
                continue
            if not records:  # past a segment's end; or a frame the reader cannot use: skip to what is committed
                if reached < end:
                    log.error("spool: unreadable frame at %s; skipping to %s", reached, end)
                position = end
                self.spool.checkpoint(position)
                continue
            try:
                client = db.thread_client(settings=self.settings)
                if tries >= ISOLATE_AFTER:
                    for record in records:
                        self._write_alone(client, record)
                else:
                    self._write(client, records)
            except Exception as exc:  # noqa: BLE001 - the engine failed the batch: nothing is lost, try again
                tries += 1
                wait = min(0.5 * 2 ** (tries - 1), 30.0)
                log.error("spool: writing %d requests failed (try %d, next in %.1f s): %s", len(records), tries, wait, exc)
                self._stop.wait(wait)
                continue
            tries = 0
            position = records[-1].end
            self.spool.checkpoint(position)
            for record in records:
                self.queued.pop(record.meta["id"], None)
            if sum(int(r.meta.get("rows", 1)) for r in records) < self.max_rows:
                self._stop.wait(LINGER_S)

    def _write(self, client, records: list[Record]) -> None:
        if records[0].end <= self._replay_until:  # spooled before this process started: maybe written, not checkpointed
            done = _finished(client, [r.meta["id"] for r in records])
            records = [r for r in records if r.meta["id"] not in done]
        by_table: dict[str, list[Record]] = defaultdict(list)
        for record in records:
            by_table[record.meta["table"]].append(record)
        for table, mine in by_table.items():
            bodies = [joined.Body(r.body, r.meta["source"], r.meta["id"], datetime.fromisoformat(r.meta["at"])) for r in mine]
            for record, result in zip(mine, joined.write_bodies(client, table, bodies, self.settings)):
                if isinstance(result, SegworkError):  # this request cannot be read: say so in its job
                    _log_failed(client, record, str(result))

    def _write_alone(self, client, record: Record) -> None:
        try:
            self._write(client, [record])
        except Exception as exc:  # noqa: BLE001
            if not _engine_answers(client):
                raise  # the engine is gone, not this request: keep it for the next try
            log.error("spool: request %s failed on its own and is set aside: %s", record.meta["id"], exc)
            with open(self.spool.dir / "failed.ndjson", "a") as f:
                f.write(json.dumps({**record.meta, "error": str(exc)[:2000],
                                    "body": record.body.decode("utf-8", "replace")}) + "\n")
            _log_failed(client, record, f"{exc.__class__.__name__}: {exc}; the body is kept in {self.spool.dir / 'failed.ndjson'}")

def _report(record: Record) -> IngestReport:
    meta = record.meta
    return IngestReport(meta["id"], meta["table"], meta["source"], meta["format"])


def _log_failed(client, record: Record, error: str) -> None:
    ingestlog.log(client, _report(record), "started")
    ingestlog.log(client, _report(record), "failed", error)


def _finished(client, ids: list[str]) -> set[str]:
    found = db.query_df(client, "ingests_finished", {"ids": ids})
    return set(found["ingest_id"]) if len(found) else set()


def _engine_answers(client) -> bool:
    try:
        client.command("SELECT 1")
        return True
    except Exception:  # noqa: BLE001
        return False
