"""segwork.ingestion.dedup: the in-memory id index and the engine behaviour it relies on."""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from segwork import embedded, sqlfiles
from segwork.ingestion import dedup


def test_event_id_hashes_come_back_in_the_batch_order(client):
    """Pins the chDB behaviour relied on: Python(probe) read by one thread keeps row order
    (read by several it does not), and the hash is the one event_ids_mv stores."""
    ids = pa.chunked_array([[f"id{i}" for i in range(j, j + 100_000)] for j in range(0, 600_000, 100_000)])
    got = embedded.query_arrow(client, sqlfiles.load("event_id_hashes"), {}, probe=pa.table({"event_id": ids}))
    some = ids.to_pylist()[::50_000]
    want = [h for (h,) in client.query("SELECT sipHash64(arrayJoin({ids:Array(String)}))", parameters={"ids": some}).result_rows]
    assert got.column(0).to_numpy()[::50_000].tolist() == want
    assert got.num_rows == 600_000


def test_id_index_finds_exactly_the_stored_hashes():
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 2**63, 50_000, dtype=np.int64).astype(np.uint64)
    index = dedup.IdIndex([], 0)
    for part in np.array_split(stored, 7):  # several runs, merged as they come
        index.add(np.sort(part))
    probe = np.concatenate([stored[::3], rng.integers(0, 2**63, 20_000, dtype=np.int64).astype(np.uint64)])
    ordered = np.sort(probe)
    assert (index.candidates(ordered) == np.isin(ordered, stored)).all()
    assert index.rows == 50_000 and len(index.runs) < 7
