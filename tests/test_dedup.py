"""segwork.ingestion.dedup: the in-memory id index and the engine behaviour it relies on."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

import segwork

from segwork import embedded, sqlfiles
from segwork.ingestion import dedup, idindex


def test_event_id_hashes_come_back_in_the_batch_order(client):
    """Pins the chDB behaviour relied on: Python(probe) read by one thread keeps row order
    (read by several it does not), and the hash is the one event_ids_mv stores."""
    ids = pa.chunked_array([[f"id{i}" for i in range(j, j + 100_000)] for j in range(0, 600_000, 100_000)])
    got = embedded.query_arrow(client, sqlfiles.load("event_id_hashes"), {}, probe=pa.table({"event_id": ids}))
    some = ids.to_pylist()[::50_000]
    want = [h for (h,) in client.query("SELECT sipHash64(arrayJoin({ids:Array(String)}))", parameters={"ids": some}).result_rows]
    assert got.column(0).to_numpy()[::50_000].tolist() == want
    assert got.num_rows == 600_000


def fingerprints(hashes: np.ndarray) -> np.ndarray:
    """What the index keeps of a hash: its top 40 bits (shard and kept bits)."""
    return hashes >> np.uint64(idindex.KEEP_SHIFT)


def test_id_index_finds_exactly_the_stored_fingerprints():
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 2**64 - 1, 200_000, dtype=np.uint64)
    index = idindex.IdIndex()
    for part in np.array_split(stored, 40):  # many adds: small arrays merged into large ones
        index.add(np.sort(part))
    near = stored[::7] ^ np.uint64(1 << 23)  # same fingerprint, another hash: a hit to confirm
    probe = np.concatenate([stored[::3], near, rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64)])
    ordered = np.sort(probe)
    got = index.candidates(ordered)
    assert (got == np.isin(fingerprints(ordered), fingerprints(stored))).all()
    assert got[np.isin(ordered, stored)].all() and got[np.isin(ordered, near)].all()
    assert index.rows == 200_000 and index.nbytes() == 4 * 200_000


def test_id_index_loaded_from_the_database_matches_the_one_built_while_writing(client):
    ids = [f"ev-{i}" for i in range(30_000)]
    segwork.ingest(client, "customer_events", events(ids))
    built = dedup._index(client)
    dedup.forget(client)
    loaded = dedup._index(client)
    assert loaded is not built and loaded.rows == built.rows == 30_000
    hashes = np.sort(np.array([h for (h,) in client.query("SELECT h FROM event_ids").result_rows], dtype=np.uint64))
    assert loaded.candidates(hashes).all()
    for s in range(idindex.SHARDS):
        assert (np.concatenate([loaded.large[s], loaded.small[s]]) == np.sort(np.concatenate([built.large[s], built.small[s]]))).all()


FINGERPRINT_PAIR = ("fp-1923955", "fp-2649326")  # found by the engine among 3M made-up ids (the test checks)


def test_an_id_sharing_a_fingerprint_with_a_stored_one_is_stored_once(client):
    """Two ids whose hashes share the index's 40 bits: the second is new, not a duplicate, and
    each counts once however often it comes."""
    first, second = FINGERPRINT_PAIR
    hashes = client.query("SELECT sipHash64({a:String}), sipHash64({b:String})", parameters={"a": first, "b": second}).result_rows[0]
    assert hashes[0] != hashes[1] and fingerprints(np.array(hashes, dtype=np.uint64)).tolist() == [hashes[0] >> 24] * 2
    assert segwork.ingest(client, "customer_events", events([first])).inserted == 1
    assert dedup._index(client).candidates(np.array([hashes[1]], dtype=np.uint64)).all()
    assert len(dedup._confirmed(client, np.array([hashes[1]], dtype=np.uint64))) == 0
    assert segwork.ingest(client, "customer_events", events([second, first, second])).inserted == 1
    assert segwork.ingest(client, "customer_events", events([first, second])).inserted == 0
    assert sorted(r[0] for r in client.query("SELECT event_id FROM customer_events").result_rows) == sorted([first, second])


def test_whole_hashes_at_the_edges_of_the_shards_and_of_uint64_are_confirmed(client):
    """The confirmation and the index's load read hashes as the engine stores them, the ones
    past 2^63 included (unsigned through the parameters and the shifts)."""
    edges = [0, 2**56 - 1, 2**56, 2**63 - 1, 2**63, 2**64 - 2**24, 2**64 - 1]
    client.command("INSERT INTO event_ids SELECT arrayJoin({h:Array(UInt64)})", parameters={"h": edges})
    asked = np.array(sorted(edges + [5, 2**63 + 1]), dtype=np.uint64)
    assert dedup._confirmed(client, asked).tolist() == sorted(edges)
    index = dedup._index(client)  # loaded from event_ids, 16 shards per query
    assert index.rows == len(edges)
    assert index.candidates(np.array(sorted(edges), dtype=np.uint64)).all()
    assert not index.candidates(np.array([2**24, 2**63 + 2**24], dtype=np.uint64)).any()


def test_an_input_sent_again_with_more_hits_than_are_confirmed_goes_in_once(client):
    """Past CONFIRM_MAX fingerprint hits the whole-hash lookup is skipped (the hits are real
    repeats) and the ids themselves decide: nothing twice, the new ones in."""
    unstored = np.arange(1, dedup.CONFIRM_MAX + 2, dtype=np.uint64)  # none in event_ids: a lookup would find none
    assert len(dedup._confirmed(client, unstored)) == len(unstored)
    assert len(dedup._confirmed(client, unstored[:10])) == 0
    ids = [f"again-{i}" for i in range(dedup.CONFIRM_MAX + 2_000)]
    assert segwork.ingest(client, "customer_events", events(ids)).inserted == len(ids)
    report = segwork.ingest(client, "customer_events", events(ids + ["again-new"]))
    assert (report.inserted, report.duplicates) == (1, len(ids))
    assert client.command("SELECT count() FROM customer_events") == len(ids) + 1


def events(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"event_id": ids, "customer_id": "c1", "event_type": "purchase", "event_value": 1.0,
                         "product_id": "", "category": "", "timestamp": pd.Timestamp("2026-01-01", tz="UTC")})
