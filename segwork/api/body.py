"""Request bodies with limits: plain or gzip-encoded bytes, multipart file uploads, and what
an Events API body holds (NDJSON, one JSON object, or a JSON array).

A body over its limit is refused with 413 as soon as the limit is crossed (before it is all
read when Content-Length says so); a gzip body is also limited after decompression (by the
reader every path uses, segwork.ingestion.inflate, which refuses gzip inside gzip). The limit
sits on the request's ASGI receive, so Starlette's own readers (body(), stream(), form())
are limited too; a client that leaves mid-body is a 400.
"""
from __future__ import annotations

import json
import tempfile
from contextlib import contextmanager
from typing import BinaryIO, Iterator

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from segwork.api.responses import ApiError
from segwork.errors import InputTooLargeError
from segwork.ingestion import inflate

SPOOL_BYTES = 4 * 1024 * 1024  # a raw upload larger than this goes to a temporary file (multipart: Starlette's 1 MB)
ONE_OBJECT_BYTES = 1024 * 1024  # largest Events API body tried as one JSON object spread over lines
_BLANK = b"\xef\xbb\xbf \t\r\n"
_SCAN_BLOCK = 64 * 1024


async def read(request: Request, limit: int) -> bytes:
    """The whole body, at most `limit` bytes."""
    with _limited(request, limit) as body:
        return await body.body()


def decode(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo Content-Encoding (identity or gzip), keeping the result under `limit` bytes. A body
    that is gzip data is inflated (within the limit) whatever Content-Encoding says, as the
    reader would; gzip inside gzip is refused (segwork.ingestion.inflate, shared by every path)."""
    encoding = (content_encoding or "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise ApiError(415, f"Content-Encoding {content_encoding!r} is not supported; send the body plain or gzip-compressed")
    if encoding in ("", "identity") and body[:2] != inflate.MAGIC:
        return body
    try:
        return inflate.inflate(body, limit, "the body")
    except InputTooLargeError:
        raise ApiError(413, f"the body is larger than {_size(limit)} once decompressed; send smaller batches") from None


async def upload(request: Request, limit: int) -> tuple[BinaryIO, str | None, str | None]:
    """(file, file name, form field) of a multipart upload, or of a raw body; at most `limit` bytes.

    The file is a seekable binary file (spooled to disk when large); the caller closes it.
    """
    content_type = request.headers.get("content-type", "")
    with _limited(request, limit) as body:
        if content_type.lower().startswith("multipart/form-data"):
            try:
                form = await body.form(max_files=1, max_fields=20)
            except HTTPException as exc:  # Starlette's 400 for a malformed body, a second file, too many fields
                raise ApiError(400, f"the multipart body cannot be read: {exc.detail}; send one file, e.g. curl -F csv=@file.csv") from None
            for field, value in form.multi_items():
                if isinstance(value, UploadFile):
                    return value.file, value.filename, field
            raise ApiError(400, "the multipart body has no file; send one, e.g. curl -F csv=@customers.csv")
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        async for chunk in body.stream():
            spool.write(chunk)
    spool.seek(0)
    return spool, None, None


def events_body(raw: bytes, content_encoding: str | None, inflated_limit: int) -> tuple[bytes, str]:
    """(bytes, format) for ingest from an Events API body as received: decoded (gzip when the
    header or the magic bytes say so), then sniffed. CPU work on the whole body: the API runs it
    on a worker thread, never on the event loop."""
    encoding = content_encoding or ("gzip" if raw[:2] == b"\x1f\x8b" else None)
    return events_payload(decode(raw, encoding, inflated_limit))


def events_payload(data: bytes) -> tuple[bytes, str]:
    """(bytes, format) for ingest: NDJSON as is; one JSON object (even over several lines) as one line.

    Only a body of at most ONE_OBJECT_BYTES is parsed whole to find out whether it is one
    object spread over lines: one record is far smaller, and json.loads holds the GIL
    (every thread, the event loop too) for about 10 ms per MB. A larger body is NDJSON.
    """
    start = _first_content(data)
    if start is None:
        raise ApiError(400, "the body is empty: send one JSON object, or NDJSON (one JSON object per line)")
    first = data[start:start + 1]
    if first == b"[":
        return data, "json"
    if first == b"{" and len(data) <= ONE_OBJECT_BYTES and b"\n" in data[start:].rstrip():
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):  # the reader scans nesting before any parser and quarantines what is too deep
            return data, "ndjson"  # several lines: NDJSON (bad lines are quarantined)
        if isinstance(obj, dict):
            return json.dumps(obj).encode() + b"\n", "ndjson"
    return data, "ndjson"


def _first_content(data: bytes) -> int | None:
    """Index of the first byte that is not a BOM or whitespace; None if there is none. Looked
    for a block at a time: bytes.lstrip of 100 MB of newlines held the GIL for 0.6 s."""
    for offset in range(0, len(data), _SCAN_BLOCK):
        block = data[offset:offset + _SCAN_BLOCK]
        rest = block.lstrip(_BLANK)
        if rest:
            return offset + len(block) - len(rest)
    return None


class _Receive:
    """The request's ASGI receive, refusing the body with 413 once more than `limit` bytes came."""

    def __init__(self, receive, limit: int):
        self.receive, self.limit, self.size = receive, limit, 0

    async def __call__(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                raise ApiError(413, f"the body is more than the limit of {_size(self.limit)}; send smaller batches")
        return message


@contextmanager
def _limited(request: Request, limit: int) -> Iterator[Request]:
    """The request again, its body limited to `limit` bytes; a client leaving mid-body is a 400."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the body is {_size(int(declared))}, more than the limit of {_size(limit)}; send smaller batches")
    receive = _Receive(request.receive, limit)
    try:
        yield Request(request.scope, receive)
    except ClientDisconnect:
        raise ApiError(400, f"the client went away after {receive.size:,} bytes of the body; nothing was inserted") from None


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"
