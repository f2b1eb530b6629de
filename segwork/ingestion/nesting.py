"""How deep JSON text nests, found in numpy before any parser sees it.

Parsers recurse per level: Python's json raises RecursionError near 1,000 levels and pyarrow's
reader overflows its stack (the process dies) from a few thousand. So input nested deeper than
SEGWORK_MAX_JSON_DEPTH is refused by a scan of the bytes: [ and { open a level, ] and } close
one, brackets inside strings do not count (a quote after an odd run of backslashes is escaped).
The scan is exact for valid JSON; on invalid JSON a parser stops at the first error, which
comes after a prefix the scan reads the same way, so no parser ever goes deeper than the scan.
"""
from __future__ import annotations

import numpy as np

WINDOW_BYTES = 1 << 23  # bytes scanned at a time (a few masks of this size are alive at once)
_OPEN, _CLOSE = 0x7B, 0x7D  # "{" and "}"; "[" and "]" are the same with bit 0x20 cleared


def deeper_lines(body: bytes, starts: np.ndarray, ends: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the lines (body[starts[i]:ends[i]]) nested deeper than `limit`.

    A line cannot nest deeper than it has [ and { bytes, so only lines with more than `limit`
    of them are scanned: with one object per line, none (the count per line: ~50 ms per 300k
    events, 49 MB, against ~0.5 s for pyarrow to read them)."""
    if len(ends) == 0:
        return np.zeros(0, np.int64)
    chars = np.frombuffer(body, np.uint8)
    opens = np.flatnonzero((chars | 0x20 if body.find(b"[") >= 0 else chars) == _OPEN)  # most lines hold no "["
    if len(opens) <= limit:
        return np.zeros(0, np.int64)
    per_line = np.diff(np.searchsorted(opens, ends), prepend=np.searchsorted(opens, starts[:1]))
    candidates = np.flatnonzero(per_line > limit)
    return np.array([i for i in candidates if depth(body[starts[i]:ends[i]]) > limit], np.int64)


def depth(data: bytes) -> int:
    """The deepest nesting of [ and { in JSON text, brackets inside strings not counted."""
    deepest = level = 0
    in_string = False
    run = 0  # backslashes at the end of the window before
    for start in range(0, len(data), WINDOW_BYTES):
        chars = np.frombuffer(data, np.uint8, min(WINDOW_BYTES, len(data) - start), start)
        quotes = np.flatnonzero(chars == 0x22)
        slashes = np.flatnonzero(chars == 0x5C)
        if len(slashes) or run:
            quotes, run = _unescaped(quotes, slashes, run, len(chars))
        folded = chars | 0x20
        marks = np.flatnonzero((folded == _OPEN) | (folded == _CLOSE))
        outside = (np.searchsorted(quotes, marks) + in_string) % 2 == 0
        levels = level + np.cumsum(np.where(folded[marks[outside]] == _OPEN, 1, -1))
        if len(levels):
            deepest, level = max(deepest, int(levels.max())), int(levels[-1])
        in_string = (in_string + len(quotes)) % 2 == 1
    return deepest


def _unescaped(quotes: np.ndarray, slashes: np.ndarray, run: int, size: int) -> tuple[np.ndarray, int]:
    """The quotes not escaped (not after an odd run of backslashes), and the run of
    backslashes that ends the window (the next window's first quote may follow it)."""
    if not len(slashes):
        escaped = (quotes == 0) & (run % 2 == 1)
        return quotes[~escaped], 0
    first = np.ones(len(slashes), bool)
    first[1:] = np.diff(slashes) != 1
    run_start = slashes[np.maximum.accumulate(np.where(first, np.arange(len(slashes)), 0))]
    carried = np.where(run_start == 0, run, 0)  # a run at the window's start goes on from the window before
    before = np.searchsorted(slashes, quotes) - 1  # the last backslash before each quote
    follows = (before >= 0) & (slashes[np.maximum(before, 0)] == quotes - 1)
    length = np.where(follows, quotes - run_start[np.maximum(before, 0)] + carried[np.maximum(before, 0)], 0)
    if run:
        length = np.where(quotes == 0, run, length)
    escaped = length % 2 == 1
    trailing = int(size - run_start[-1] + carried[-1]) if slashes[-1] == size - 1 else 0
    return quotes[~escaped], trailing
