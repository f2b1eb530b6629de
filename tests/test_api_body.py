"""segwork.api.body: upload limits hold while the body streams in, whichever reader parses it."""
from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from segwork.api import body
from segwork.api.responses import ApiError

BOUNDARY = "xx"
RAW = [(b"content-type", b"text/csv")]
MULTIPART = [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]


def multipart(payload: bytes, *files: str) -> bytes:
    """A multipart body with `payload` as the file of each field in `files` (default: one, csv)."""
    parts = b"".join(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{field}.file"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + payload + b"\r\n" for field in files or ("csv",))
    return parts + f"--{BOUNDARY}--\r\n".encode()


class Sender:
    """An ASGI receive that sends `data` in `chunk`-byte messages (no Content-Length, as in a
    chunked upload), then a disconnect if the client `leaves`; `sent` counts the bytes taken."""

    def __init__(self, data: bytes, chunk: int = 10_000, *, leaves: bool = False):
        self.chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
        self.leaves, self.sent = leaves, 0

    async def __call__(self) -> dict:
        if not self.chunks:
            assert self.leaves, "the body was read past its end"
            return {"type": "http.disconnect"}
        chunk = self.chunks.pop(0)
        self.sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks) or self.leaves}


def request(receive, headers) -> Request:
    # "app" is in every scope a Starlette app serves; Starlette's form() answers a bad body by it.
    return Request({"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": headers, "app": object()}, receive)


async def _upload_bytes(req: Request, limit: int) -> bytes:
    file, _, _ = await body.upload(req, limit)
    with file:
        return file.read()


READERS = {  # name: (headers, body for a payload, the reader)
    "read": (RAW, lambda p: p, body.read),
    "raw upload": (RAW, lambda p: p, _upload_bytes),
    "multipart upload": (MULTIPART, multipart, _upload_bytes),
}


@pytest.mark.parametrize("reader", READERS)
def test_a_body_within_the_limit_arrives_whole(reader):
    headers, wrap, read = READERS[reader]
    payload = bytes(range(256)) * 12_000  # 3 MB: a multipart file goes past Starlette's in-memory spool
    assert asyncio.run(read(request(Sender(wrap(payload), 65_536), headers), 4_000_000)) == payload


@pytest.mark.parametrize("reader", READERS)
def test_an_oversized_body_is_refused_while_it_streams(reader):
    headers, wrap, read = READERS[reader]
    sender = Sender(wrap(b"x" * 10_000_000))
    with pytest.raises(ApiError, match="more than the limit of 100,000 bytes") as refused:
        asyncio.run(read(request(sender, headers), 100_000))
    assert refused.value.status == 413
    assert sender.sent <= 110_000 and sender.chunks  # stopped at the chunk that crossed the limit


@pytest.mark.parametrize("reader", READERS)
def test_a_declared_oversized_body_is_refused_before_it_is_read(reader):
    headers, wrap, read = READERS[reader]
    sender = Sender(wrap(b"x" * 200_000))
    declared = [*headers, (b"content-length", str(sum(len(c) for c in sender.chunks)).encode())]
    with pytest.raises(ApiError, match="more than the limit") as refused:
        asyncio.run(read(request(sender, declared), 100_000))
    assert refused.value.status == 413 and sender.sent == 0


@pytest.mark.parametrize("reader", READERS)
def test_a_client_leaving_mid_body_is_a_400(reader):
    headers, wrap, read = READERS[reader]
    sender = Sender(wrap(b"x" * 1_000_000)[:30_000], leaves=True)
    with pytest.raises(ApiError, match="the client went away after 30,000 bytes") as refused:
        asyncio.run(read(request(sender, headers), 4_000_000))
    assert refused.value.status == 400


@pytest.mark.parametrize("data, reason", [
    (multipart(b"a\n1\n", "csv", "ndjson"), "two files"),
    (b"--xx\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--xx--\r\n", "a part without a name"),
])
def test_an_unreadable_multipart_body_is_a_400_that_says_so(data, reason):
    with pytest.raises(ApiError, match="the multipart body cannot be read") as refused:
        asyncio.run(_upload_bytes(request(Sender(data), MULTIPART), 4_000_000))
    assert refused.value.status == 400, reason


def test_a_multiline_body_nested_too_deep_is_left_to_the_reader():
    """Python's json gives up on it; the reader's depth scan quarantines it before any parser (no 400, no crash)."""
    deep = b'{\n"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"\n}"
    assert body.events_payload(deep) == (deep, "ndjson")
    assert body.events_payload(b'{\n"x": [[1]]\n}') == (b'{"x": [[1]]}\n', "ndjson")  # shallow: one object, as before
