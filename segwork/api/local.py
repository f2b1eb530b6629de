"""The running workbench's API for the person who started it: its admin token and where it listens.

At start the workbench keeps one ADMIN token, `workbench-admin`, in the database (hashed, as
every token) and its secret in <data dir>/api-admin-token, readable by its owner only (0600);
the same token serves every start until it is revoked or the file is lost (then a new one is
made) or a new one is asked for. While it runs, <data dir>/workbench.json (also 0600) says
which process holds which database and where its API answers. The CLI reads both to go
through the workbench (segwork.api.remote); the workbench's API page shows them.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from clickhouse_connect.driver.client import Client

from segwork import db
from segwork.api import pipes, tokens
from segwork.config import Settings
from segwork.errors import SegworkError

TOKEN_FILE = "api-admin-token"
RUNNING_FILE = "workbench.json"
TOKEN_NAME = "workbench-admin"


@dataclass(frozen=True)
class AdminToken:
    """The workbench's admin token: its secret, the file that keeps it, and how it came to be."""

    secret: str
    path: Path
    name: str
    story: str  # "kept from an earlier start", "made now", ...


@dataclass(frozen=True)
class Running:
    """What a running workbench wrote about itself in <data dir>/workbench.json."""

    pid: int
    url: str  # the workbench on this machine; its API is under /v0/
    folder: str | None  # the embedded database folder it holds (None: in memory or a server)
    database: str
    engine: str
    token_file: str
    max_upload_bytes: int
    started_at: str

    @property
    def api(self) -> str:
        return f"{self.url}/v0/"


def token_path(settings: Settings) -> Path:
    return settings.data_dir / TOKEN_FILE


def running_path(settings: Settings) -> Path:
    return settings.data_dir / RUNNING_FILE


def ensure_admin_token(client: Client, settings: Settings, *, renew: bool = False) -> AdminToken:
    """The admin token whose secret the token file holds, when the database still accepts it;
    else (or with renew) a new `workbench-admin` token, written to the file first."""
    path = token_path(settings)
    secret = read_admin_token(settings)
    found = tokens.find(client, secret) if secret else None
    if found is not None and found.is_admin and not renew:
        os.chmod(path, 0o600)
        return AdminToken(secret, path, found.name, "kept from an earlier start")
    if renew:
        story = "made now, as asked (the previous one is revoked)"
    elif secret:
        story = "made now: the database no longer accepts the one the file held"
    else:
        story = "made now"
    if found is not None and found.is_admin:
        tokens.revoke(client, found.name)
    if any(t.name == TOKEN_NAME and not t.revoked for t in tokens.list_all(client)):
        tokens.revoke(client, TOKEN_NAME)  # its secret is lost with the file, or being replaced
    secret, token = tokens.create(client, TOKEN_NAME, [tokens.ADMIN], {}, pipes.PIPES)
    write_private(path, secret + "\n")
    return AdminToken(secret, path, token.name, story)


def read_admin_token(settings: Settings) -> str | None:
    """The secret in the token file, or None when there is no readable file."""
    try:
        return token_path(settings).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def publish(settings: Settings, url: str) -> Running:
    """Write workbench.json for this process (its URL, the database it holds); returns what was written."""
    where = db.target(settings=settings)
    folder = where.location if where.dsn.startswith("chdb:") and not where.in_memory else None
    running = Running(os.getpid(), url, folder, where.database, where.describe(), str(token_path(settings)),
                      settings.api_max_upload_bytes, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    write_private(running_path(settings), json.dumps(asdict(running), indent=1) + "\n")
    return running


def withdraw(settings: Settings) -> None:
    """Remove workbench.json when this process wrote it (a later workbench's file stays)."""
    found = read_running(settings)
    if found is not None and found.pid == os.getpid():
        running_path(settings).unlink(missing_ok=True)


def read_running(settings: Settings) -> Running | None:
    """What workbench.json says, when it is there, readable and its process is alive; else None."""
    try:
        found = Running(**json.loads(running_path(settings).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(found.pid, 0)
    except ProcessLookupError:
        return None  # left behind by a workbench that was killed
    except PermissionError:
        pass  # alive, another user's
    return found


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable and writable by this user only (0600), replacing it whole."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except OSError as exc:
        raise SegworkError(f"cannot write {path}: {exc.strerror or exc}; make the data folder writable "
                           "or point SEGWORK_DATA_DIR at one that is") from exc


def mask(secret: str) -> str:
    """A token for the screen: its prefix and last four characters."""
    return f"{secret[:3]}{'•' * 12}{secret[-4:]}"


def curl_examples(api: str, token_file: Path | str) -> str:
    """Shell lines calling the tutorial's endpoints with the admin token read from its file."""
    api = api.rstrip("/")
    return "\n".join([
        f'export TB_ADMIN_TOKEN="$(cat {token_file})"',
        f'curl -H "Authorization: Bearer $TB_ADMIN_TOKEN" "{api}/pipes"',
        f'curl -H "Authorization: Bearer $TB_ADMIN_TOKEN" "{api}/pipes/customer_segments_summary.json?location=New%20York"',
        f'curl -H "Authorization: Bearer $TB_ADMIN_TOKEN" "{api}/pipes/customer_segment_lookup.json?customer_id=c0000001"',
        f'curl -X POST -H "Authorization: Bearer $TB_ADMIN_TOKEN" "{api}/events?name=customer_events&wait=true" \\',
        '  -d \'{"event_id": "evt1", "customer_id": "c0000001", "event_type": "purchase", "timestamp": "2026-01-01 12:00:00"}\'',
        f'curl -X POST -H "Authorization: Bearer $TB_ADMIN_TOKEN" "{api}/tokens?name=reader&scope=PIPES:READ:customer_segments_summary"',
    ])
