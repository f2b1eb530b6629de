"""UTF-8 checks for readers: a whole block at once (pyarrow's validation, ~1 ms per 8 MB), and,
only for a block that fails it, which of its lines hold the invalid bytes."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from segwork.ingestion.dialect import CHOOSE_ENCODING


def valid(data: bytes) -> bool:
    """Whether data is valid UTF-8 (checked without a copy, as one Arrow string)."""
    if data.isascii():
        return True
    offsets = pa.py_buffer(np.array([0, len(data)], np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def replace_invalid(data: bytes) -> tuple[bytes, list[int]]:
    """(data with each line that is not valid UTF-8 decoded with U+FFFD for its invalid bytes,
    the 0-based numbers of those lines). Line breaks and ASCII bytes keep their order."""
    lines = data.split(b"\n")
    bad = []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            lines[i] = line.decode("utf-8", "replace").encode()
            bad.append(i)
    return b"\n".join(lines), bad


def reason(line: bytes) -> str:
    """Why a line is not UTF-8, for the quarantine."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at byte {exc.start + 1} of the line); {CHOOSE_ENCODING}"
    return "not valid UTF-8"
