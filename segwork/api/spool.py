"""The Events API's write-ahead spool: with SEGWORK_API_SPOOL on, a `wait=false` body is
answered 202 once it is on disk (fsync), and written to the database afterwards by
segwork.api.drain. Nothing answered is lost when the process dies: what was not yet written
is written at the next start, and the event_id check makes that exact.

Files, under <data_dir>/spool/:
  <n>.log      segments of frames, appended to; a new one past SEGMENT_BYTES
  checkpoint   "<segment> <offset>": where the drain has written up to (replaced atomically)
  lock         held (flock) by the one process using the spool

A frame is MAGIC, the lengths of its metadata (JSON) and body, both, and a CRC-32 of both. A
frame cut short by a crash (never answered: answers come after the fsync) fails its length or
CRC and is cut off at the next start.

Group commit: appends that come while an fsync runs share the next one, on one thread of its
own (measured here: an fsync of a few KB takes ~0.2 ms, so 8 clients cost one fsync per round).
"""
from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from segwork.errors import ConfigError

log = logging.getLogger("segwork.api.spool")
MAGIC = b"SWS1"
HEAD = struct.Struct("<4sII")  # magic, metadata length, body length
CRC = struct.Struct("<I")
SEGMENT_BYTES = 64 * 1024 * 1024
Position = tuple[int, int]  # (segment number, byte offset)


@dataclass
class Record:
    meta: dict  # id, table, source, format, rows, at
    body: bytes
    end: Position  # where the next frame starts


class Spool:
    """Append (async, durable when it returns), read from a position, and checkpoint."""

    def __init__(self, directory: Path, segment_bytes: int = SEGMENT_BYTES):
        self.dir, self.segment_bytes = Path(directory), segment_bytes
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lockfile = open(self.dir / "lock", "a")
        try:
            fcntl.flock(self._lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lockfile.close()
            raise ConfigError(f"the Events API spool {self.dir} is in use by another segwork process; give each API "
                              "process its own SEGWORK_DATA_DIR, or stop the other one") from None
        self.checkpointed = self._read_checkpoint()
        segments = self._segments()
        self._segment = segments[-1] if segments else max(self.checkpointed[0], 1)
        end = self._valid_end(self._segment, self.checkpointed[1] if self._segment == self.checkpointed[0] else 0)
        self._fd = os.open(self._path(self._segment), os.O_WRONLY | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size > end:
            log.warning("spool %s: cut off %d bytes of a frame a crash left unfinished (never answered)",
                        self._path(self._segment), os.fstat(self._fd).st_size - end)
            os.ftruncate(self._fd, end)
        os.lseek(self._fd, end, os.SEEK_SET)
        self._end: Position = (self._segment, end)
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []
        self._committing = False
        self._io = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segwork-spool")
        self.committed = threading.Condition()  # notified after each fsync (the drain waits on it)

    # --- writing -------------------------------------------------------------------------

    async def append(self, meta: dict, body: bytes) -> None:
        """Add one record; returns once it is on disk (with whatever else came meanwhile)."""
        await self.append_frame(frame(meta, body))

    async def append_frame(self, frame: bytes) -> None:
        """Add one record made by frame() (a big body's frame is made off the event loop)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._lock:
            self._pending.append(frame)
            self._waiters.append((loop, done))
            start = not self._committing
            self._committing = True
        if start:
            self._io.submit(self._commit)
        await done

    def _commit(self) -> None:
        while True:
            with self._lock:
                frames, waiters = self._pending, self._waiters
                self._pending, self._waiters = [], []
                if not frames:
                    self._committing = False
                    return
            try:
                data = b"".join(frames)
                os.write(self._fd, data)
                os.fdatasync(self._fd)
                end = (self._segment, self._end[1] + len(data))
                if end[1] >= self.segment_bytes:  # the next frames go to a new segment
                    os.close(self._fd)
                    self._segment += 1
                    self._fd = os.open(self._path(self._segment), os.O_WRONLY | os.O_CREAT, 0o600)
                    end = (self._segment, 0)
                with self.committed:
                    self._end = end
                    self.committed.notify_all()
                error = None
            except OSError as exc:  # a full disk, say: those requests get a 503, nothing was answered
                log.error("spool %s: write failed: %s", self.dir, exc)
                error = exc
                try:  # no part of an unanswered frame stays in front of the next ones
                    os.ftruncate(self._fd, self._end[1])
                    os.lseek(self._fd, self._end[1], os.SEEK_SET)
                except OSError:
                    pass
            for loop, done in waiters:
                loop.call_soon_threadsafe(_settle, done, error)

    def end(self) -> Position:
        with self.committed:
            return self._end

    def backlog_bytes(self) -> int:
        """Bytes on disk not yet checkpointed as written (0 when the checkpoint is at the end of the
        segment before the current one's start). Called on the event loop while the drain's thread
        checkpoints and deletes spent segments: a segment gone during the count means the
        checkpoint moved past it, so the count starts again from the new checkpoint (a count mixing
        the two was wrong, and a segment deleted between an exists() and its stat() was a 500)."""
        for _ in range(100):
            (seg, off), (cseg, coff) = self.end(), self.checkpointed
            if seg == cseg:
                return off - coff
            try:
                return sum(os.stat(self._path(s)).st_size for s in range(cseg, seg)) - coff + off
            except FileNotFoundError:
                if self.checkpointed == (cseg, coff):  # not the drain: a segment removed by hand
                    raise
        raise RuntimeError(f"spool {self.dir}: the backlog could not be counted while segments were deleted")

    # --- reading and checkpointing (the drain) --------------------------------------------

    def read(self, start: Position, end: Position, max_rows: int) -> tuple[list[Record], Position]:
        """The records from `start` up to `end` (committed), at most about `max_rows` rows (at least
        one), and the position reached: past the last record, or where an unusable frame stopped it."""
        out, rows, (seg, off) = [], 0, start
        while (seg, off) < end and (not out or rows < max_rows):
            path = self._path(seg)
            if seg < end[0] and (not path.exists() or off >= path.stat().st_size):
                seg, off = seg + 1, 0  # a spent segment: the next one
                continue
            with open(path, "rb") as f:
                f.seek(off)
                while (seg, off) < end and (not out or rows < max_rows):
                    record = _frame(f, (seg, off))
                    if record is None:
                        return out, (seg, off)
                    out.append(record)
                    rows += int(record.meta.get("rows", 1))
                    off = record.end[1]
        return out, (seg, off)

    def checkpoint(self, position: Position) -> None:
        """Everything before `position` is written: remember it (atomically), drop spent segments."""
        tmp = self.dir / "checkpoint.tmp"
        with open(tmp, "w") as f:
            f.write(f"{position[0]} {position[1]}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.dir / "checkpoint")
        self.checkpointed = position
        for seg in self._segments():
            if seg < position[0]:
                self._path(seg).unlink(missing_ok=True)

    def close(self) -> None:
        self._io.shutdown(wait=True)
        os.close(self._fd)
        self._lockfile.close()  # releases the flock

    # --- files ---------------------------------------------------------------------------

    def _path(self, seg: int) -> Path:
        return self.dir / f"{seg:08d}.log"

    def _segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.dir.glob("*.log") if p.stem.isdigit())

    def _read_checkpoint(self) -> Position:
        try:
            seg, off = (self.dir / "checkpoint").read_text().split()
            return int(seg), int(off)
        except (FileNotFoundError, ValueError):
            return (min(self._segments(), default=1), 0)

    def _valid_end(self, seg: int, start: int) -> int:
        """Where the last whole frame of segment `seg` ends (from `start`, a frame boundary)."""
        path, off = self._path(seg), start
        if not path.exists():
            return 0
        with open(path, "rb") as f:
            f.seek(off)
            while (record := _frame(f, (seg, off))) is not None:
                off = record.end[1]
        return off


def frame(meta: dict, body: bytes) -> bytes:
    """One record as it is stored: CPU work on the whole body (a copy and a CRC-32)."""
    head = json.dumps(meta, separators=(",", ":")).encode()
    return b"".join((HEAD.pack(MAGIC, len(head), len(body)), head, body, CRC.pack(zlib.crc32(body, zlib.crc32(head)))))


def _frame(f, at: Position) -> Record | None:
    """The frame at the file's position, or None at the end or at a frame cut short."""
    head = f.read(HEAD.size)
    if len(head) < HEAD.size:
        return None
    magic, n_meta, n_body = HEAD.unpack(head)
    if magic != MAGIC:
        return None
    rest = f.read(n_meta + n_body + CRC.size)
    if len(rest) < n_meta + n_body + CRC.size:
        return None
    meta, body = rest[:n_meta], rest[n_meta:n_meta + n_body]
    if CRC.unpack(rest[-CRC.size:])[0] != zlib.crc32(body, zlib.crc32(meta)):
        return None
    return Record(json.loads(meta), body, (at[0], at[1] + HEAD.size + len(rest)))


def _settle(done: asyncio.Future, error: BaseException | None) -> None:
    if not done.done():
        done.set_exception(error) if error else done.set_result(None)
