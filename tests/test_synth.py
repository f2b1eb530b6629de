"""synth.event_blocks (size L's events generated 10M at a time) gives exactly synth.events' rows."""
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segwork import synth


@pytest.mark.parametrize("n, customers, block, kw", [
    (50_000, 400, 7_000, {}),  # blocks that do not divide n
    (50_000, 400, 50_000, {}),
    (20_000, 300, 6_000, {"seed": 5, "end": "2025-01-01", "days": 365}),
    (10, 3, 4, {"seed": 3}),
    (0, 10, 5, {}),
])
def test_blocks_together_are_the_events(n, customers, block, kw):
    whole = synth.events(n, customers, **kw)
    blocks = list(synth.event_blocks(n, customers, block=block, **kw))
    assert [len(b) for b in blocks] == ([min(block, n - i) for i in range(0, n, block)] or [0])
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)
    assert whole["event_id"].tolist() == [f"e{i:010d}" for i in range(1, n + 1)]


def test_blocks_with_activity_from_signups_are_the_events():
    signups = np.random.default_rng(1).integers(1_700_000_000, 1_790_000_000, 500)
    whole = synth.events(30_000, 500, active_from=signups)
    blocks = synth.event_blocks(30_000, 500, block=8_000, active_from=signups)
    pd.testing.assert_frame_equal(pd.concat(blocks, ignore_index=True), whole)


def test_bench_data_written_in_blocks_is_the_events(tmp_path, monkeypatch):
    from bench import data

    monkeypatch.setattr(data, "CACHE", tmp_path)
    monkeypatch.setattr(data, "BLOCK", 20_000)
    monkeypatch.setitem(data.SIZES, "T", (1000, 50_000, 10_000))
    ds = data.dataset("T", log=lambda _line: None)
    events = pd.read_parquet(ds.events_parquet)
    pd.testing.assert_frame_equal(events, synth.events(50_000, 1000, end=data.END), check_dtype=False)
    assert pq.ParquetFile(ds.events_parquet).metadata.num_row_groups == 3
    pd.testing.assert_frame_equal(pd.read_parquet(ds.ingest_file("parquet", 10_000)), events.head(10_000))
    assert len(pd.read_csv(ds.ingest_file("csv", 1_000))) == 1_000
