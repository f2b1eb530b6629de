"""Latin-1 / Windows-1252 text as UTF-8, decoded block by block as it is read (an incremental
decoder: the file is never held whole), so every reader after it sees UTF-8.

Windows-1252 leaves five bytes undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D); they are read as the
control characters of the same number, as the WHATWG encoding standard (and so every browser) does.
"""
from __future__ import annotations

import codecs
import io

_BLOCK = 1 << 20  # source bytes decoded at a time


def _c1(error: UnicodeDecodeError):
    """An undefined Windows-1252 byte as the C1 control character of the same number."""
    return "".join(chr(b) for b in error.object[error.start:error.end]), error.end


codecs.register_error("segwork-c1", _c1)


class Transcoded(io.RawIOBase):
    """A read-only view of `raw` (text in `encoding`) as UTF-8 bytes. `raw` stays reachable for
    progress: its position counts the source's bytes, so progress holds approximately."""

    def __init__(self, raw, encoding: str):
        super().__init__()
        self.raw, self.encoding = raw, encoding
        self._decoder = codecs.getincrementaldecoder(encoding)("segwork-c1")
        self._buffer = bytearray()
        self._done = False

    def readable(self) -> bool:
        return True

    def _fill(self, want: int) -> None:
        while len(self._buffer) < want and not self._done:
            data = self.raw.read(max(_BLOCK, want - len(self._buffer)))
            self._done = not data
            self._buffer += self._decoder.decode(data, final=self._done).encode("utf-8")

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            self._fill(1 << 62)
            size = len(self._buffer)
        else:
            self._fill(size)
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    read1 = read

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def readline(self, size: int | None = -1) -> bytes:
        limit = size if size is not None and size >= 0 else 1 << 62
        start = 0
        while True:
            end = self._buffer.find(b"\n", start, limit)
            if end >= 0:
                return self.read(end + 1)
            if len(self._buffer) >= limit or self._done:
                return self.read(min(limit, len(self._buffer)))
            start = len(self._buffer)
            self._fill(len(self._buffer) + _BLOCK)

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()
