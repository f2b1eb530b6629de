"""Inserting validated blocks: content tokens and the insert worker."""
from __future__ import annotations

import pyarrow as pa
import pytest

from segwork import synth
from segwork.ingestion.write import Inserter, content_token


def block(n=1000, seed=1) -> pa.Table:
    table = pa.Table.from_pandas(synth.events(n, 10, seed=seed), preserve_index=False)
    return table.set_column(6, "timestamp", table.column(6).cast(pa.timestamp("s", tz="UTC")))


def test_token_depends_on_content_not_on_how_it_was_read():
    b = block()
    large = b.cast(pa.schema([(f.name, pa.large_string() if f.type == pa.string() else f.type) for f in b.schema]))
    assert content_token("customer_events", large) == content_token("customer_events", b)
    pieces = pa.concat_tables([b.slice(0, 300), b.slice(300, 700)])
    assert content_token("customer_events", pieces) == content_token("customer_events", b)
    assert content_token("customer_events", b.slice(1)) != content_token("customer_events", b)
    changed = b.set_column(3, "event_value", pa.array([0.5] + b.column(3).to_pylist()[1:]))
    assert content_token("customer_events", changed) != content_token("customer_events", b)


def test_inserter_runs_jobs_in_order_and_raises_their_errors():
    done = []
    inserter = Inserter()
    for i in range(5):
        inserter.submit(lambda i=i: done.append(i))
    inserter.wait()
    assert done == [0, 1, 2, 3, 4]

    def fail():
        raise RuntimeError("engine down")

    inserter.submit(fail)
    with pytest.raises(RuntimeError, match="engine down"):
        inserter.close()


def test_token_of_a_slice_equals_that_of_the_same_rows_built_afresh():
    b = block()
    b = b.set_column(4, "product_id", pa.array([None if i % 7 == 0 else v for i, v in enumerate(b.column(4).to_pylist())]))
    part = b.slice(300, 400)
    fresh = pa.Table.from_pylist(part.to_pylist(), schema=b.schema)
    assert part.column(0).chunk(0).offset == 300 and fresh.column(0).chunk(0).offset == 0
    assert content_token("customer_events", part) == content_token("customer_events", fresh)
    assert content_token("customer_events", part) != content_token("customer_events", b.slice(301, 400))


def test_a_column_it_cannot_hash_is_refused_not_hashed_as_nothing():
    """Bit-packed booleans have a byte width of 0: [True, False] and [False, True] would share a token."""
    with pytest.raises(TypeError, match="no rule for bool"):
        content_token("t", pa.table({"flag": [True, False]}))
