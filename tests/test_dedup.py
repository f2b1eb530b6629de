"""segwork.ingestion.dedup: the in-memory id index and the engine behaviour it relies on."""
from __future__ import annotations

import numpy as np
import pytest
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
    """What the index keeps of a hash: its top 38 bits (shard and kept bits)."""
    return hashes >> np.uint64(idindex.KEEP_SHIFT)


@pytest.mark.parametrize("compact_from", [idindex.COMPACT_FROM, 64], ids=["plain", "packed"])
def test_id_index_finds_exactly_the_stored_fingerprints(compact_from):
    """Against numpy's isin on the fingerprints, with probes in one batch (vectorised search)
    and one by one (the few-probes path); packed: every shard's large set packed, merged into
    many times."""
    rng = np.random.default_rng(5)
    stored = rng.integers(0, 2**64 - 1, 200_000, dtype=np.uint64)
    index = idindex.IdIndex(compact_from=compact_from)
    for part in np.array_split(stored, 40):  # many adds: small arrays merged into large ones
        index.add(np.sort(part))
    near = stored[::7] ^ np.uint64(1 << (idindex.KEEP_SHIFT - 1))  # same fingerprint, another hash: a hit to confirm
    off = stored[::11] ^ np.uint64(1 << idindex.KEEP_SHIFT)  # the fingerprint's last bit differs
    probe = np.concatenate([stored[::3], near, off, rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64)])
    ordered = np.sort(probe)
    got = index.candidates(ordered)
    assert (got == np.isin(fingerprints(ordered), fingerprints(stored))).all()
    assert got[np.isin(ordered, stored)].all() and got[np.isin(ordered, near)].all()
    one_by_one = np.concatenate([index.candidates(ordered[i:i + 1]) for i in range(0, len(ordered), 97)])
    assert (one_by_one == got[::97]).all()
    packed = [large for large in index.large if isinstance(large, idindex.Packed)]
    assert len(packed) == (idindex.SHARDS if compact_from == 64 else 0) and index.rows == 200_000
    small = sum(len(a) for a in index.small)
    assert index.nbytes() == (4 * 200_000 if not packed else 2 * (200_000 - small) + 4 * small + 4 * (idindex.BUCKETS + 1) * idindex.SHARDS)
    for s in range(idindex.SHARDS):
        mine = np.sort(fingerprints(stored[stored >> np.uint64(64 - idindex.SHARD_BITS) == s]) & np.uint64(idindex.KEPT_MASK))
        assert (index.fingerprints(s) == mine).all()


def test_a_packed_set_merged_into_equals_one_packed_at_once():
    rng = np.random.default_rng(8)
    kept = np.unique(rng.integers(0, 2**idindex.KEPT_BITS, 60_000).astype(np.uint32))
    first, later = kept[::3], np.setdiff1d(kept, kept[::3])
    merged, whole = idindex.Packed.of(first).with_(later), idindex.Packed.of(kept)
    assert (merged.remainders == whole.remainders).all() and (merged.offsets == whole.offsets).all()
    assert merged.steps == whole.steps and (merged.unpacked() == kept).all()
    again = merged.with_(kept[:50])  # fingerprints held already (two hashes sharing one): held twice, found
    absent = np.setdiff1d(kept[:20] + np.uint32(1), kept)
    assert len(again) == len(kept) + 50 and again.contains(kept).all() and not again.contains(absent).any()
    assert len(absent) and (again.unpacked() == np.sort(np.concatenate([kept, kept[:50]]))).all()


@pytest.fixture(params=["plain", "packed"])
def layout(request, monkeypatch):
    """The index as a small database has it (plain uint32 shards) and, with COMPACT_FROM at 1,
    as a large one has it (every shard packed), end to end through segwork.ingest."""
    if request.param == "packed":
        monkeypatch.setattr(idindex, "COMPACT_FROM", 1)
    return request.param


def packed_shards(index: idindex.IdIndex) -> int:
    return sum(isinstance(large, idindex.Packed) for large in index.large)


def test_id_index_loaded_from_the_database_matches_the_one_built_while_writing(client, layout):
    ids = [f"ev-{i}" for i in range(30_000)]
    segwork.ingest(client, "customer_events", events(ids))
    built = dedup._index(client)
    dedup.forget(client)
    loaded = dedup._index(client)
    assert loaded is not built and loaded.rows == built.rows == 30_000
    assert packed_shards(loaded) == (idindex.SHARDS if layout == "packed" else 0)
    hashes = np.sort(np.array([h for (h,) in client.query("SELECT h FROM event_ids").result_rows], dtype=np.uint64))
    assert loaded.candidates(hashes).all()
    for s in range(idindex.SHARDS):
        assert (loaded.fingerprints(s) == built.fingerprints(s)).all()


FINGERPRINT_PAIR = ("fp-118358", "fp-2933982")  # found by the engine among 3M made-up ids (the test checks)


def test_an_id_sharing_a_fingerprint_with_a_stored_one_is_stored_once(client, layout):
    """Two ids whose hashes share the index's 38 bits: the second is new, not a duplicate, and
    each counts once however often it comes."""
    first, second = FINGERPRINT_PAIR
    hashes = client.query("SELECT sipHash64({a:String}), sipHash64({b:String})", parameters={"a": first, "b": second}).result_rows[0]
    assert hashes[0] != hashes[1] and fingerprints(np.array(hashes, dtype=np.uint64)).tolist() == [hashes[0] >> idindex.KEEP_SHIFT] * 2
    assert segwork.ingest(client, "customer_events", events([first])).inserted == 1
    assert packed_shards(dedup._index(client)) == (1 if layout == "packed" else 0)
    assert dedup._index(client).candidates(np.array([hashes[1]], dtype=np.uint64)).all()
    assert len(dedup._confirmed(client, np.array([hashes[1]], dtype=np.uint64))) == 0
    assert segwork.ingest(client, "customer_events", events([second, first, second])).inserted == 1
    assert segwork.ingest(client, "customer_events", events([first, second])).inserted == 0
    assert sorted(r[0] for r in client.query("SELECT event_id FROM customer_events").result_rows) == sorted([first, second])


def test_whole_hashes_at_the_edges_of_the_shards_and_of_uint64_are_confirmed(client, layout):
    """The confirmation and the index's load read hashes as the engine stores them, the ones
    past 2^63 included (unsigned through the parameters and the shifts)."""
    edges = [0, 2**56 - 1, 2**56, 2**63 - 1, 2**63, 2**64 - 2**24, 2**64 - 1]
    client.command("INSERT INTO event_ids SELECT arrayJoin({h:Array(UInt64)})", parameters={"h": edges})
    asked = np.array(sorted(edges + [5, 2**63 + 1]), dtype=np.uint64)
    assert dedup._confirmed(client, asked).tolist() == sorted(edges)
    index = dedup._index(client)  # loaded from event_ids, 16 shards per query
    assert index.rows == len(edges)
    assert index.candidates(np.array(sorted(edges), dtype=np.uint64)).all()
    low = 1 << idindex.KEEP_SHIFT  # the lowest bit of a fingerprint: not held by 0 nor by 2^63
    assert not index.candidates(np.array([low, 2**63 + low], dtype=np.uint64)).any()


def test_an_input_sent_again_with_more_hits_than_are_confirmed_goes_in_once(client, layout):
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
