"""segwork.ingestion.nesting: the depth scan agrees with a parser on valid JSON, whatever the
strings hold (brackets, quotes, backslashes) and wherever the scan's windows fall."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from segwork.ingestion import nesting

TRICKY = ['[', ']', '{', '}', '"', '\\', '\\"', '\\\\', '\\\\"', 'a', ' ', 'é', '\n', '[[{{', '\\u005b']


def value(rng: random.Random, levels: int):
    """A random JSON value nested exactly `levels` deep (0: a scalar), with tricky strings."""
    if levels == 0:
        return rng.choice([1, 2.5, None, True, "".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 8)))])
    inner = [value(rng, rng.randint(0, levels - 1)) for _ in range(rng.randint(0, 3))] + [value(rng, levels - 1)]
    rng.shuffle(inner)
    if rng.random() < 0.5:
        return inner
    return {"".join(rng.choice(TRICKY) for _ in range(rng.randint(0, 4))) + str(i): v for i, v in enumerate(inner)}


def parsed_depth(obj) -> int:
    """The nesting depth of a parsed value."""
    if isinstance(obj, list):
        return 1 + max((parsed_depth(v) for v in obj), default=0)
    if isinstance(obj, dict):
        return 1 + max((parsed_depth(v) for v in obj.values()), default=0)
    return 0


@pytest.mark.parametrize("window", [1, 2, 3, 7, 64, 1 << 23])
def test_the_scan_agrees_with_the_parser_on_random_json(monkeypatch, window):
    monkeypatch.setattr(nesting, "WINDOW_BYTES", window)
    rng = random.Random(window)
    for _ in range(150 if window > 2 else 40):
        obj = value(rng, rng.randint(0, 9))
        text = json.dumps(obj, ensure_ascii=rng.random() < 0.5).encode()
        assert nesting.depth(text) == parsed_depth(json.loads(text)), text


@pytest.mark.parametrize("window", [1, 2, 5, 1 << 23])
def test_backslash_runs_across_windows(monkeypatch, window):
    monkeypatch.setattr(nesting, "WINDOW_BYTES", window)
    for slashes in range(0, 7):
        text = json.dumps(["\\" * slashes + '"[' + "\\" * slashes, ["x"]]).encode()
        assert nesting.depth(text) == 2, text


def test_brackets_in_strings_do_not_count_and_unterminated_strings_hide_the_rest():
    assert nesting.depth(b'{"a": "[[[[{{{{", "b": [1]}') == 2
    assert nesting.depth(b'{"a": "\\"[[[[", "b": {"c": {}}}') == 3
    assert nesting.depth(b'"[[[[[[[[') == 0
    assert nesting.depth(b"[" * 20_000 + b"]" * 20_000) == 20_000
    assert nesting.depth(b"") == 0


def test_deeper_lines_are_found_among_many():
    lines = [b'{"a": 1}', b"[" * 65 + b"]" * 65, b'{"a": "' + b"[" * 100 + b'"}', b"{" * 64 + b"}" * 64, b"[" * 70, b""]
    body = b"\n".join(lines) + b"\n"
    ends = np.flatnonzero(np.frombuffer(body, np.uint8) == 0x0A)
    starts = np.concatenate(([0], ends[:-1] + 1))
    assert list(nesting.deeper_lines(body, starts, ends, 64)) == [1, 4]
    assert list(nesting.deeper_lines(body, starts, ends, 100)) == []
