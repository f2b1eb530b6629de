"""segwork.ingestion.inflate: one bounded gzip reader, whatever reads through it, and every path
(library, CLI, workbench upload, API events and data sources) reads gzip through it."""
from __future__ import annotations

import gzip
import io
import zlib

import pytest

import segwork
from segwork.config import Settings
from segwork.errors import InputFileError, InputTooLargeError
from segwork.ingestion import inflate, read as readers
from segwork.schemas import columns

from tests.test_readers import HEADER, good


def bomb(inflated: int, byte: bytes = b"\n") -> bytes:
    """gzip of `inflated` copies of `byte`, compressed piece by piece (never held inflated)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    piece = byte * (1 << 20)
    parts = [packer.compress(piece) for _ in range(inflated >> 20)]
    return b"".join(parts) + packer.compress(byte * (inflated % (1 << 20))) + packer.flush()


BOMB = bomb(256 << 20)  # 256 MiB of line breaks in about 250 kB


@pytest.mark.parametrize("how", ["read", "read -1", "readline", "iterate", "seek to end", "seek past"])
def test_no_reader_gets_past_the_limit(how):
    stream = inflate.open_gzip(io.BytesIO(BOMB), 100_000, "bomb.gz")
    consume = {
        "read": lambda: [None for _ in iter(lambda: stream.read(65536), b"")],
        "read -1": lambda: stream.read(),
        "readline": lambda: [None for _ in iter(lambda: stream.readline(), b"")],
        "iterate": lambda: list(stream),
        "seek to end": lambda: stream.seek(0, io.SEEK_END),
        "seek past": lambda: stream.seek(200_000),
    }[how]
    with pytest.raises(InputTooLargeError, match="bomb.gz: is larger than 100,000 bytes once decompressed") as refused:
        consume()
    assert refused.value.limit == 100_000 and stream.tell() <= 100_001


def test_up_to_the_limit_reads_whole_with_several_members_and_seeks():
    data = b"".join(f"line {i}\n".encode() for i in range(10_000))
    packed = gzip.compress(data[:30_000]) + gzip.compress(data[30_000:])  # two members, one file
    assert inflate.inflate(packed, len(data), "x.gz") == data
    with pytest.raises(InputTooLargeError):
        inflate.inflate(packed, len(data) - 1, "x.gz")
    stream = inflate.open_gzip(io.BytesIO(packed), len(data), "x.gz")
    assert stream.seek(0, io.SEEK_END) == len(data) and stream.seek(7) == 7 and stream.readline() == b"line 1\n"


@pytest.mark.parametrize("data, words", [
    (gzip.compress(gzip.compress(b"a,b\n1,2\n")), "is gzip inside gzip"),
    (gzip.compress(b"a,b\n1,2\n" * 1000)[:-30], "the gzip data is truncated"),
    (b"\x1f\x8b" + b"not gzip at all", "is not valid gzip"),
    (gzip.compress(b"a,b\n")[:10] + b"\xff" * 40, "is not valid gzip"),
], ids=["nested", "truncated", "not gzip", "bad deflate"])  # fixed ids: gzip headers hold the time (xdist collects twice)
def test_nested_truncated_and_invalid_gzip_are_input_errors(data, words):
    with pytest.raises(InputFileError, match=words):
        inflate.inflate(data, 1 << 20, "x.gz")


def test_the_reader_inflates_within_the_settings_and_refuses_gzip_in_gzip(client, tmp_path):
    """It inflated a second gzip layer, and any size, without a bound."""
    text = "\n".join([HEADER] + [good(f"r{i}") for i in range(200)]) + "\n"
    path = tmp_path / "e.csv.gz"
    path.write_bytes(gzip.compress(gzip.compress(text.encode())))
    with pytest.raises(InputFileError, match="e.csv.gz: is gzip inside gzip"):
        segwork.ingest(client, "customer_events", path)
    path.write_bytes(gzip.compress(text.encode()))
    small = Settings(max_inflated_bytes=len(text) - 1)
    with pytest.raises(InputTooLargeError, match="e.csv.gz: is larger than"):
        segwork.ingest(client, "customer_events", path, settings=small)
    assert segwork.ingest(client, "customer_events", path, settings=Settings(max_inflated_bytes=len(text))).inserted == 200
    src = readers.open_source(BOMB, None, "bomb.ndjson.gz", Settings(max_inflated_bytes=1 << 20))
    with pytest.raises(InputTooLargeError):
        list(readers.read_chunks(src, columns("customer_events"), 1000))


def test_uploads_read_with_their_own_limit():
    s = Settings(max_inflated_bytes=100, max_upload_inflated_bytes=7)
    assert s.for_uploads().max_inflated_bytes == 7 and s.for_uploads().max_upload_inflated_bytes == 7
    assert Settings.from_env({"SEGWORK_MAX_UPLOAD_INFLATED_BYTES": "5", "SEGWORK_MAX_INFLATED_BYTES": "9"}).for_uploads().max_inflated_bytes == 5
