"""The one gzip reader of every path (library and CLI, workbench upload, the API's events and
data sources): it counts the bytes it inflates and stops past a limit, so a small compressed
input cannot become an unbounded one; gzip inside gzip is refused.

A body of 1,829 bytes gzipped twice kept the API busy for minutes: the API inflated one layer
within its limit, then the reader sniffed gzip again and inflated the rest without any.
"""
from __future__ import annotations

import gzip
import io
import zlib

from segwork.errors import InputFileError, InputTooLargeError

MAGIC = b"\x1f\x8b"
_PIECE = 1 << 20  # bytes inflated at a time when a whole stream is read or skipped


def open_gzip(raw, limit: int, name: str) -> "Inflated":
    """A gzip stream inflated as it is read, refusing more than `limit` bytes and gzip inside."""
    stream = Inflated(raw, limit, name)
    if stream.read(2) == MAGIC:
        stream.close()
        raise InputFileError(f"{name}: is gzip inside gzip; decompress it to one layer (gunzip it once) and send that")
    stream.seek(0)
    return stream


def inflate(data: bytes, limit: int, name: str) -> bytes:
    """All of a gzip input (several members are one after the other), at most `limit` bytes."""
    with open_gzip(io.BytesIO(data), limit, name) as stream:
        return stream.read()


def size_words(n: int) -> str:
    """A byte count for people: 100.0 MB, 20.0 GB, 3,000 bytes."""
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:,} bytes"


class Inflated(io.BufferedIOBase):
    """A read-only, seekable view of the inflated bytes of `raw` (gzip.GzipFile underneath),
    that raises InputTooLargeError rather than go past `limit` inflated bytes. Positions are
    inflated bytes; `raw` stays reachable for progress in compressed bytes."""

    def __init__(self, raw, limit: int, name: str):
        super().__init__()
        self.raw, self.limit, self.name = raw, max(int(limit), 0), name
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")  # not from raw.mode: an upload spool is w+b

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        return self._bounded(self._gz.read, size)

    read1 = read

    def readline(self, size: int | None = -1) -> bytes:
        return self._bounded(self._gz.readline, size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def tell(self) -> int:
        return self._gz.tell()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:  # GzipFile would inflate to the end without a bound
            while self.read(_PIECE):
                pass
            offset, whence = self.tell() + offset, io.SEEK_SET
        elif whence == io.SEEK_CUR:
            offset, whence = self.tell() + offset, io.SEEK_SET
        if offset > self.limit:
            raise self._too_large()
        return self._call(self._gz.seek, offset)

    def close(self) -> None:
        if not self.closed:
            self._gz.close()
            self.raw.close()
        super().close()

    def _bounded(self, read, size: int | None) -> bytes:
        room = self.limit + 1 - self.tell()  # one byte more than allowed tells that there is more
        data = self._call(read, room if size is None or size < 0 else min(size, room))
        if self.tell() > self.limit:
            raise self._too_large()
        return data

    def _call(self, method, *args):
        try:
            return method(*args)
        except EOFError:
            raise InputFileError(f"{self.name}: the gzip data is truncated (it ends before its end marker); "
                                 "send the whole compressed file") from None
        except (OSError, zlib.error) as exc:
            raise InputFileError(f"{self.name}: is not valid gzip ({exc}); compress it with gzip, or send it uncompressed") from None

    def _too_large(self) -> InputTooLargeError:
        return InputTooLargeError(f"{self.name}: is larger than {size_words(self.limit)} once decompressed; "
                                  "send it in smaller parts", limit=self.limit)
