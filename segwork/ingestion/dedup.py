"""What is new: each record is stored once, however often and however it arrives.

The rules (README, "Exact counts"):
- an event is its event_id: a later copy, whatever its content, is a duplicate (the first
  copy wins);
- a profile version is its (customer_id, timestamp): a later copy is a duplicate;
- a bad record is its values and raw text plus how many identical records came before it
  in the same input: sent again, it is recognised instead of quarantined twice.

All writes to one table from one process go through one lock (`writer`), so a check and
the insert it decides are never interleaved with another ingest of the same table.
Across processes on a ClickHouse server two writers can still race (see the README).
"""
from __future__ import annotations

import hashlib
import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from segwork import db, embedded, sqlfiles
from segwork.ingestion import idindex
from segwork.ingestion.idindex import IdIndex
from segwork.schemas import later_repeats


_locks: dict[tuple, threading.Lock] = {}
_locks_guard = threading.Lock()
_indexes: dict[tuple, "IdIndex"] = {}
_repaired: set[tuple] = set()


def _engine_key(client: Client) -> tuple:
    return (getattr(client, "path", None) or str(getattr(client, "url", "")), client.database)


@contextmanager
def writer(client: Client, table: str) -> Iterator[None]:
    """The one writer of `table` in this process (check-then-insert is atomic within it)."""
    key = (*_engine_key(client), table)
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        yield


LOAD_SHARDS = 16  # shards read per query when an index is loaded: 1/16 of the hashes held twice at most


def _index(client: Client) -> IdIndex:
    """This database's index, (re)loaded when event_ids no longer holds what it holds."""
    key = _engine_key(client)
    events, ids = db.query_rows(client, "event_counts", {})[0]
    index = _indexes.get(key)
    if index is None or index.rows != ids:
        if events > ids:
            repair(client)
        index = IdIndex()
        for first in range(0, idindex.SHARDS, LOAD_SHARDS):
            lo, hi = idindex.shard_range(first, min(first + LOAD_SHARDS, idindex.SHARDS) - 1)
            part = embedded.query_arrow(client, sqlfiles.load("event_ids_range"), {"lo": lo, "hi": hi})
            if part.num_rows:
                index.add(part.column(0).to_numpy())
        _indexes[key] = index
    return index


CONFIRM_MAX = 10_000  # fingerprint hits confirmed by the whole hash; more are mostly real repeats


def _confirmed(client: Client, maybe: np.ndarray) -> np.ndarray:
    """Of the hashes the index may hold (fingerprint hits), those event_ids holds whole. A
    fingerprint shared by chance is rare (~360 in 1M probes at 100M stored ids): many hits mean
    an input sent again, whose hits are real and go straight to the id check (as they did
    before the index kept fingerprints), not through a lookup that would confirm them all."""
    if len(maybe) > CONFIRM_MAX:
        return maybe
    found = db.query_rows_in_parts(client, "stored_hashes", "hashes", [int(h) for h in maybe])
    return np.array(sorted(h for (h,) in found), dtype=np.uint64)


def repair(client: Client) -> int:
    """Give every stored event its row in event_ids (missing after a process was killed
    between the two writes of one insert); returns how many were added."""
    events, ids = db.query_rows(client, "event_counts", {})[0]
    if events <= ids:
        return 0
    db.command(client, "event_ids_repair")
    return int(events) - int(ids)


def repair_history(client: Client) -> int:
    """Copy into customer_history the versions customers holds and it lacks: an insert writes
    customers before customer_history_mv writes the history, so a process killed in between
    leaves them out. Only an interrupted profile ingest can have done that, so the (full)
    comparison runs only when one is listed; returns how many versions were added."""
    interrupted = db.query_df(client, "incomplete_ingests", {"limit": 10_000})
    if not (interrupted["table_name"] == "customers").any():
        return 0
    before = db.query_rows(client, "customer_history_count", {})[0][0]
    db.command(client, "customer_history_repair")
    return int(db.query_rows(client, "customer_history_count", {})[0][0]) - int(before)


def forget(client: Client) -> None:
    """Drop the in-memory index of this database (after a failed insert: reload next time)."""
    _indexes.pop(_engine_key(client), None)


def new_events(client: Client, block: pa.Table) -> tuple[pa.Table, np.ndarray | None]:
    """The events of `block` whose event_id is not stored yet (the first of repeats within
    the block), and their hashes, sorted, for the index (None on a server). Call under `writer`."""
    ids = block.column("event_id").combine_chunks()
    if embedded.usable(client):
        hashes = embedded.query_arrow(client, sqlfiles.load("event_id_hashes"), {}, probe=pa.table({"event_id": ids}))
        hashes = hashes.column(0).to_numpy()
        ordered = np.sort(hashes)
        keep = np.ones(len(ids), dtype=bool)
        if (ordered[1:] == ordered[:-1]).any():  # repeats across the gathered chunks (rare)
            keep = _first_of_repeats(ids)
        hit = _index(client).candidates(ordered)
        if hit.any():
            maybe = keep & np.isin(hashes, _confirmed(client, ordered[hit]))
            keep[maybe] = ~_stored(client, ids.filter(pa.array(maybe)), np.flatnonzero(maybe), len(ids))[maybe]
        if keep.all():
            return block, ordered
        return block.filter(pa.array(keep)), np.sort(hashes[keep])
    if _engine_key(client) not in _repaired:  # a server: once per process (see repair)
        repair(client)
        _repaired.add(_engine_key(client))
    keep = ~_stored(client, ids, np.arange(len(ids)), len(ids), hashed=False)
    keep &= _first_of_repeats(ids)
    return block.filter(pa.array(keep)), None


def remember(client: Client, hashes: np.ndarray | None) -> None:
    """Add the hashes of events just stored (as new_events returned them) to the index."""
    index = _indexes.get(_engine_key(client))
    if hashes is not None and index is not None:
        index.add(hashes)


def _stored(client: Client, ids: pa.Array, positions: np.ndarray, n: int, *, hashed: bool = True) -> np.ndarray:
    """True at positions whose id is stored, compared as text in customer_events. hashed=False
    (a server, no index in memory): the ids whose hash event_ids holds are found first."""
    values = ids.to_pylist()
    maybe = values if hashed else [r[0] for r in db.query_rows_in_parts(client, "ids_with_stored_hash", "ids", values)]
    found = {r[0] for r in db.query_rows_in_parts(client, "stored_event_ids", "ids", maybe)}
    out = np.zeros(n, dtype=bool)
    out[positions] = [v in found for v in values]
    return out


def _first_of_repeats(ids: pa.Array) -> np.ndarray:
    """False for an id repeated earlier in the block (gathered chunks may repeat each other)."""
    return ~later_repeats(pd.Series(ids.to_pandas()))


def new_profiles(client: Client, block: pa.Table) -> pa.Table:
    """The profile versions of `block` whose (customer_id, timestamp) is not stored yet in
    customer_history (the first of repeats within the block). Call under `writer`."""
    if (*_engine_key(client), "customers") not in _repaired:  # once per process (see repair_history)
        repair_history(client)
        _repaired.add((*_engine_key(client), "customers"))
    keys = pd.DataFrame({"customer_id": block.column("customer_id").to_pandas(),
                         "timestamp": block.column("timestamp").cast(pa.int64()).to_numpy()})
    stored = pd.DataFrame(db.query_rows_in_parts(client, "stored_profile_versions", "ids", keys["customer_id"].unique().tolist()),
                          columns=["customer_id", "timestamp"]).astype({"timestamp": "int64"})
    known = pd.MultiIndex.from_frame(keys).isin(pd.MultiIndex.from_frame(stored)) if len(stored) else np.zeros(len(keys), bool)
    keep = ~known & ~keys.duplicated().to_numpy()
    return block if keep.all() else block.filter(pa.array(keep))


def record_tokens(table: str, texts: list[tuple], occurrences: dict[str, int]) -> list[str]:
    """A token per bad record: its values' text and the number of identical records before it
    in this input (`occurrences` is kept by the caller across chunks)."""
    tokens = []
    for values in texts:
        content = hashlib.sha256(repr((table, values)).encode()).hexdigest()[:32]
        k = occurrences.get(content, 0)
        occurrences[content] = k + 1
        tokens.append(f"{content}:{k}")
    return tokens


def quarantined_before(client: Client, table: str, tokens: list[str]) -> set[str]:
    """The tokens already in `table`'s quarantine."""
    return {r[0] for r in db.query_rows_in_parts(client, "quarantine_tokens_seen", "tokens", tokens,
                                          quarantine_table=f"{table}_quarantine")}
