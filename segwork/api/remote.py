"""The CLI through the running workbench: its commands over the workbench's HTTP API, on loopback.

The embedded database admits one process. While a workbench holds it, `info`, `query`, `token`
and `ingest` send their work to the workbench's API with the admin token it keeps in the data
folder (segwork.api.local) and print what they print when run directly. `find` says whether
to go through a workbench; when one holds the database but cannot be used, a WorkbenchError
says why and what to do.

The standard library's urllib does the HTTP: a few calls to this machine, no pooling, HTTP/2 or
async needed, and a file object is streamed as a body with its Content-Length (the upload's
progress is its reads), so the CLI needs no HTTP package at run time.
"""
from __future__ import annotations

import io
import json
import os
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import BinaryIO, Callable
from urllib.parse import quote, urlencode

import pandas as pd

from segwork import db, enginefolder
from segwork.api import local, tokens
from segwork.api.app import OPTIONS_HEADER
from segwork.config import Settings
from segwork.errors import EngineBusyError, SegworkError
from segwork.ingestion import IngestReport
from segwork.ingestion import read as readers

ANSWER_SECONDS = 15  # a workbench that does not answer a token check in this time is reported as not answering
Upload = Callable[[int, int], None]  # (bytes sent, bytes in all)


class WorkbenchError(EngineBusyError):
    """A workbench holds the embedded database, and the command cannot go through it."""


def find(settings: Settings) -> "Remote | None":
    """The running workbench's API when it holds the embedded database this command would open;
    None to open the database directly (not embedded, not held, or held by a process that is
    not a running workbench: opening it then says so)."""
    where = db.target(settings=settings)
    if not where.dsn.startswith("chdb:") or where.in_memory:
        return None
    folder = where.location
    if not enginefolder.held_by_another_process(folder):
        return None
    running = local.read_running(settings)
    if running is None or running.folder is None or not _same_path(running.folder, folder):
        return None
    held = f"the workbench running as process {running.pid} ({running.url}) holds the embedded database at {folder}"
    if running.database != where.database:
        raise WorkbenchError(f"{held} and serves database '{running.database}', not '{where.database}': run the "
                             f"command with SEGWORK_DATABASE={running.database}, or stop the workbench (Ctrl-C in its "
                             f"terminal, or kill {running.pid}) and run it again")
    try:
        secret = Path(running.token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = "is missing" if isinstance(exc, FileNotFoundError) else f"cannot be read ({getattr(exc, 'strerror', None) or exc})"
        raise WorkbenchError(f"{held}, and its admin token file {running.token_file} {reason}, so this command cannot "
                             "go through its API: restart the workbench (it writes the file again), or stop it and run "
                             "the command again to open the database directly") from None
    return Remote(running, secret, settings)


class Remote:
    """The running workbench's API, called with its admin token."""

    def __init__(self, running: local.Running, secret: str, settings: Settings):
        self.running, self.settings = running, settings
        self._secret = secret
        self._checked = False

    @property
    def note(self) -> str:
        """One line for stderr: where the command's work goes."""
        return (f"segwork: the workbench (process {self.running.pid}) holds the database; "
                f"going through its API at {self.running.api}")

    def info(self) -> dict:
        """What `info` prints (segwork.overview.info), from GET /v0/info."""
        return json.loads(self._call("GET", "info"))

    def mappings(self) -> list[dict]:
        """The column mappings `mappings` lists (segwork.mapping.store.described), from GET /v0/mappings."""
        return json.loads(self._call("GET", "mappings"))["mappings"]

    def segments(self) -> pd.DataFrame:
        """The saved segments (segwork.custom.listing), from GET /v0/segments."""
        found = json.loads(self._call("GET", "segments"))["segments"]
        return pd.DataFrame(found, columns=["name", "version", "description", "note", "saved_at"])

    def segment_yaml(self, name: str, version: int | None = None) -> str:
        """A saved segment as YAML, from GET /v0/segments/<name>."""
        query = [("version", str(version))] if version is not None else None
        return json.loads(self._call("GET", f"segments/{urllib.parse.quote(name, safe='')}", query))["yaml"]

    def apply_segments(self, text: str, note: str) -> list[str]:
        """Save a YAML text's definitions (POST /v0/segments); a line per segment saved."""
        answer = json.loads(self._call("POST", "segments", [("note", note)], text.encode(),
                                       {"Content-Type": "application/yaml"}))
        return [f"{s['name']}: version {s['version']}" for s in answer["saved"]]

    def delete_segment(self, name: str) -> int:
        """Remove a saved segment (DELETE /v0/segments/<name>); the version that records it."""
        return json.loads(self._call("DELETE", f"segments/{urllib.parse.quote(name, safe='')}"))["version"]

    def segment_exports(self, segment: str) -> pd.DataFrame:
        """The recorded exports of a segment (segwork.through_time.exports_made), from GET /v0/segment_exports."""
        found = json.loads(self._call("GET", "segment_exports", [("segment", segment)]))["exports"]
        frame = pd.DataFrame(found, columns=["segment", "since", "until", "entered", "exited", "destination", "exported_at"])
        for column in ("since", "until", "exported_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    def record_segment_export(self, values: dict) -> None:
        """Record an enter/exit export (segwork.through_time.record_export), by POST /v0/segment_exports."""
        self._call("POST", "segment_exports", _query(values))

    def query(self, pipe: str, values: dict) -> pd.DataFrame:
        """A pipe's answer as the library's query returns it: Parquet keeps the column types."""
        body = self._call("GET", f"pipes/{pipe}.parquet", _query(values), timeout=self.settings.query_timeout_seconds + 60)
        # No Arrow threads: after reading from a Python file object they may abort or hang the
        # interpreter's exit (apache/arrow#34314, #50482; seen here once in a test run).
        return pd.read_parquet(io.BytesIO(body), use_threads=False)

    def create_token(self, name: str, scopes: list[str], fixed_params: dict[str, str]) -> tuple[str, tokens.Token]:
        """POST /v0/tokens: (the new secret, its record)."""
        query = [("name", name)] + [("scope", s) for s in scopes] + [("fixed_param", f"{k}={v}") for k, v in fixed_params.items()]
        answer = json.loads(self._call("POST", "tokens", query))
        return answer.pop("token"), _token(answer)

    def list_tokens(self) -> list[tokens.Token]:
        """GET /v0/tokens: every token, revoked ones included."""
        return [_token(t) for t in json.loads(self._call("GET", "tokens"))["tokens"]]

    def revoke_token(self, name: str) -> tokens.Token:
        """DELETE /v0/tokens/<name>."""
        return _token(json.loads(self._call("DELETE", f"tokens/{quote(name, safe='')}")))

    def ingest(self, table: str, path: str, options: dict, progress: Upload | None = None) -> IngestReport:
        """Upload a file to POST /v0/datasources (multipart, streamed) and return the workbench's report.
        `options` (format, and any other ingest option) go as query parameters; the API refuses
        one it does not apply instead of ignoring it."""
        name, file = readers.open_file(path)
        with file:
            body = _Multipart(file, name, progress)
            if body.length > self.running.max_upload_bytes:
                raise SegworkError(
                    f"{path}: is {body.length:,} bytes, more than the {self.running.max_upload_bytes:,} the running "
                    "workbench's API takes in one upload (SEGWORK_API_MAX_UPLOAD_BYTES): stop the workbench and run the "
                    "command again to ingest it directly, or start the workbench with a higher SEGWORK_API_MAX_UPLOAD_BYTES")
            sent = {k: v for k, v in options.items() if v is not None and v is not False}
            query = [("name", table), ("mode", "append"), *_query(sent)]
            headers = {"Content-Type": body.content_type, "Content-Length": str(body.length)}
            if sent:
                headers[OPTIONS_HEADER] = ",".join(sent)
            answer = json.loads(self._call("POST", "datasources", query, body, headers, timeout=None))
        return IngestReport.from_dict(answer["report"])

    # --- HTTP ------------------------------------------------------------------------------

    def _call(self, method: str, path: str, query: list | None = None, body: BinaryIO | None = None,
              headers: dict | None = None, timeout: float | None = 120.0) -> bytes:
        """The answer's body; an API error as the SegworkError it stands for (its own words),
        a workbench that does not answer or refuses the token as a WorkbenchError."""
        if not self._checked:  # a short call first: a stuck workbench is reported, not waited for
            self._request("GET", "pipes", None, None, {}, ANSWER_SECONDS)
            self._checked = True
        return self._request(method, path, query, body, headers or {}, timeout)

    def _request(self, method, path, query, body, headers, timeout) -> bytes:
        url = self.running.api + path + (f"?{urlencode(query)}" if query else "")
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={**headers, "Authorization": f"Bearer {self._secret}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.read()
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc) from None
        except (urllib.error.URLError, OSError, HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            if isinstance(reason, (TimeoutError, socket.timeout)):
                reason = f"no answer within {timeout:g} s"
            raise WorkbenchError(
                f"the workbench running as process {self.running.pid} holds the embedded database at {self.running.folder} "
                f"but does not answer at {self.running.url} ({reason}): it may still be starting (loading demo data) or be "
                f"stuck. Wait and retry, or stop it (Ctrl-C in its terminal, or kill {self.running.pid}) and run the "
                "command again to open the database directly") from None

    def _refusal(self, exc: urllib.error.HTTPError) -> SegworkError:
        try:
            message = json.loads(exc.read())["error"]
        except (ValueError, KeyError, TypeError, OSError):
            return WorkbenchError(f"the workbench at {self.running.url} did not answer as segwork's API "
                                  f"(HTTP {exc.code} for {exc.url}): is it this segwork's workbench? Stop it and run the "
                                  "command again")
        if exc.code in (401, 403) and message.startswith("invalid token"):
            return WorkbenchError(f"the running workbench (process {self.running.pid}) refuses the admin token in "
                                  f"{self.running.token_file} (revoked?): restart the workbench, which makes a new one")
        if exc.code == 413:
            message += ("; the running workbench's API limits uploads: stop the workbench and run the command "
                        "again to ingest directly")
        return SegworkError(message)


class _Multipart(io.RawIOBase):
    """A multipart/form-data body with one file, read in blocks as it is sent (never held whole)."""

    def __init__(self, file: BinaryIO, name: str, progress: Upload | None):
        boundary = f"segwork-{secrets.token_hex(12)}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        quoted = name.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")
        self._head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
                      "Content-Type: application/octet-stream\r\n\r\n").encode("utf-8")
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file, self._progress = file, progress
        self._size = os.fstat(file.fileno()).st_size
        self.length = len(self._head) + self._size + len(self._tail)
        self._sent = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._head:
            block, self._head = self._head, b""
        else:
            block = self._file.read(n if n and n > 0 else 1 << 20)
            if not block:
                block, self._tail = self._tail, b""
            elif self._progress:
                self._sent += len(block)
                self._progress(self._sent, self._size)
        return block


def _query(values: dict) -> list[tuple[str, str]]:
    """Query-string pairs: a list repeats its key, a bool is true/false."""
    pairs = []
    for key, value in values.items():
        if value is None:
            continue
        for item in value if isinstance(value, (list, tuple)) else [value]:
            pairs.append((key, ("true" if item else "false") if isinstance(item, bool) else str(item)))
    return pairs


def _token(d: dict) -> tokens.Token:
    created = pd.Timestamp(d["created_at"]).to_pydatetime() if d.get("created_at") else None
    return tokens.Token(d["name"], tuple(tokens.scope_text(x) for x in d["scopes"]), dict(d.get("fixed_params") or {}), created, bool(d.get("revoked")))


def _same_path(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)
