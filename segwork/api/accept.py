"""The Events API's `wait=false` path with SEGWORK_API_SPOOL on: the body is put in the spool
(segwork.api.spool, fsync'd) and answered 202 at once; the drain (segwork.api.drain) validates
and writes it moments later.

The guarantee: a 202 means the body is on disk and will be written, exactly once per event,
even if the process dies right after answering (the next start writes it). What a 202 cannot
say yet is how many rows pass validation: its `successful_rows` counts the records received
(non-blank NDJSON lines), `quarantined_rows` is 0, and `GET /v0/jobs/<import_id>` tells the
final counts once written (`wait=true` answers them, after the write, as without the spool).
"""
from __future__ import annotations

import itertools
import logging
import uuid
from datetime import datetime, timezone

from segwork import db
from segwork.api import body, spool
from segwork.api.drain import Drainer
from segwork.api.responses import ApiError
from segwork.config import Settings
from segwork.errors import ConfigError

log = logging.getLogger("segwork.api.spool")


class Accepting:
    """The spool and its drain, for one API process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._prefix, self._ids = uuid.uuid4().hex[:16], itertools.count()  # ids: uuid4's cost (os.urandom) paid once
        self.spool = spool.Spool(settings.spool_dir)
        try:
            _claim(self.spool, _target(settings))
        except BaseException:
            self.spool.close()
            raise
        self.drainer = Drainer(self.spool, settings)

    def prepare(self, table: str, source: str, raw: bytes, encoding: str | None) -> tuple[dict, bytes] | None:
        """(metadata, spool frame) of one Events API body as received: decoded, its records counted,
        framed; None when it is not NDJSON (a JSON array is written the usual way). CPU work on the
        whole body: the API runs it off the event loop unless the body is small."""
        payload, fmt = body.events_body(raw, encoding, self.settings.api_max_inflated_bytes)
        if fmt != "ndjson":
            return None
        meta = {"id": self._next_id(), "table": table, "source": source, "format": fmt,
                "rows": sum(1 for line in payload.split(b"\n") if line.strip()), "at": datetime.now(timezone.utc).isoformat()}
        return meta, spool.frame(meta, payload)

    async def accept(self, meta: dict, frame: bytes) -> dict:
        """Put one prepared body in the spool; the 202's answer once it is on disk."""
        backlog = self.spool.backlog_bytes()
        if backlog > self.settings.api_spool_max_bytes:
            raise ApiError(503, f"the write queue holds {backlog / 1024**2:,.1f} MB not yet written (the limit is "
                                f"SEGWORK_API_SPOOL_MAX_BYTES); retry after a second", {"Retry-After": "1"})
        self.drainer.queue(meta)  # before the append: the drain may write it before append returns
        try:
            await self.spool.append_frame(frame)
        except OSError as exc:
            self.drainer.queued.pop(meta["id"], None)
            raise ApiError(503, f"the body could not be put on disk ({exc.strerror or exc}); nothing was accepted, "
                                "retry later", {"Retry-After": "5"}) from None
        return {"successful_rows": meta["rows"], "quarantined_rows": 0, "import_id": meta["id"], "status": "queued"}

    def _next_id(self) -> str:
        """32 hex digits like a uuid4's: this process's random half, then a counter."""
        return f"{self._prefix}{next(self._ids):016x}"

    def close(self) -> None:
        """Write what is spooled (up to 30 s; the rest at the next start), then let go of the spool."""
        self.drainer.stop()
        self.spool.close()


TARGET_FILE = "target"  # in the spool's folder: the database its records are written into


def _target(settings: Settings) -> str:
    """The database the drain writes into, as the spool's marker names it (the default layout's
    embedded engine by no path: a data folder moved whole keeps its spool)."""
    where = db.target(settings=settings)
    return f"database '{where.database}' of " + (where.location if settings.dsn else "the embedded engine in its data folder")


def _claim(spooled: spool.Spool, target: str) -> None:
    """Note which database this spool writes into; refuse another one while records spooled for
    the first are not written yet (the drain writes into the database it is started with)."""
    marker = spooled.dir / TARGET_FILE
    before = marker.read_text(encoding="utf-8").strip() if marker.exists() else ""
    waiting = spooled.backlog_bytes()
    if before and before != target and waiting > 0:
        raise ConfigError(f"the Events API spool {spooled.dir} holds {waiting:,} bytes of events not yet "
                          f"written into {before}, and this process writes into {target}. Start it once with the "
                          "settings of that database to write them, or set SEGWORK_API_SPOOL=0 to run without the spool")
    if not before and waiting > 0:  # spooled by a segwork from before the marker
        log.warning("spool %s: %d bytes of events spooled before it recorded its database are written into %s",
                    spooled.dir, waiting, target)
    if before != target:
        temporary = marker.with_suffix(".new")
        temporary.write_text(target + "\n", encoding="utf-8")
        temporary.replace(marker)  # whole or not at all
