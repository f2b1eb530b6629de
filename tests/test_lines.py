"""segwork.ingestion.lines: whole lines in blocks, a line longer than the limit emptied and
reported, wherever the read blocks fall; never more than the limit plus a block held."""
from __future__ import annotations

import io
import random

import pytest

from segwork.ingestion import lines
from segwork.ingestion.records import KEPT_CHARS


def expected(data: bytes, max_line: int) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """The text with long lines emptied, and (offset of the empty line, size, head) of each."""
    parts, longs, offset = data.split(b"\n"), [], 0
    for part in parts:
        if len(part) > max_line:
            longs.append((offset, len(part), part[:KEPT_CHARS]))
        offset += (0 if len(part) > max_line else len(part)) + 1
    text = b"\n".join(b"" if len(p) > max_line else p for p in parts)
    if len(parts[-1]) > max_line:
        text += b"\n"  # a long last line without its line break is an empty line with one
    return text, longs


def read(data: bytes, block: int, max_line: int) -> tuple[bytes, list[tuple[int, int, bytes]]]:
    text, longs = b"", []
    for part, found in lines.line_blocks(io.BytesIO(data), block, max_line):
        assert part.endswith(b"\n") or part == data.rsplit(b"\n", 1)[-1], "a block ends in a line break, but the last"
        longs += [(len(text) + long.offset, long.size, long.head) for long in found]
        text += part
    return text, longs


@pytest.mark.parametrize("seed", range(8))
def test_random_lines_and_blocks(seed):
    rng = random.Random(seed)
    for _ in range(400):
        parts = [b"x" * rng.choice([0, 1, 3, 9, 10, 11, 25, 60, 3000]) + b"y" for _ in range(rng.randint(0, 12))]
        data = b"\n".join(parts) + rng.choice([b"", b"\n"])
        max_line, block = rng.choice([1, 2, 5, 10, 20, 2500]), rng.choice([1, 2, 3, 7, 16, 64, 4096])
        assert read(data, block, max_line) == expected(data, max_line), (data[:100], max_line, block)


class Counting(io.RawIOBase):
    """A stream of `size` bytes of one line (then a short one), that remembers the biggest read."""

    def __init__(self, size: int):
        self.left, self.biggest = size, 0

    def readable(self):
        return True

    def read(self, n=-1):
        self.biggest = max(self.biggest, n)
        if self.left <= 0:
            return b""
        if self.left == 1:
            self.left = 0
            return b"\nshort\n"
        n = min(n, self.left - 1)
        self.left -= n
        return b"x" * n


def test_a_long_line_is_read_past_not_held():
    import tracemalloc

    stream = Counting(200 << 20)  # one 200 MiB line
    tracemalloc.start()
    try:
        got = list(lines.line_blocks(stream, 1 << 20, 1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 << 20  # the limit (1 MiB) and a few copies of a block (1 MiB), not the 200 MiB line
    assert [(block, [(x.offset, x.size, len(x.head)) for x in found]) for block, found in got] == [
        (b"\nshort\n", [(0, (200 << 20) - 1, KEPT_CHARS)])]
    assert stream.biggest == 1 << 20
