"""A writer's in-memory index of the stored event ids (embedded engine; segwork.ingestion.dedup).

Every stored event_id's sipHash64 is in event_ids. The index keeps 4 bytes of each: the hash's
top SHARD_BITS bits pick a shard and the next 32 bits are kept, sorted, in that shard, so it
answers "may be stored" for a 40-bit fingerprint. A hit is confirmed by the whole hash in
event_ids (unless a batch has so many hits that they are plainly an input sent again), then by
the id's text (dedup), so a fingerprint shared by chance costs a lookup, never a lost or doubled
event: at 100M stored ids about 1 probe in 11,000 is such a false hit. This relies on event_ids
holding every stored event's hash (dedup reloads the index whenever event_ids' count differs
from the index's, and repairs event_ids first when customer_events holds more rows).

Why this shape (bench/GROWTH.md, issue 16): the earlier index held 8 bytes an event as a few
sorted runs merged two by two, each merge holding both runs, their concatenation and its sorted
copy at once: ~2 GB at the end of a 100M-event load against ~0.5 GB at 30M (the peak RSS of the
100M load grew +114 %). Here each shard has one large sorted array and a small one for what came
since; the small one is merged into the large one when it reaches an eighth of it, so a merge
holds about two copies of one shard (1/256 of the index), and the index is 4 bytes an event.
The price is a Python loop over the shards a batch touches: at 30M stored ids a batch's check and
add took 3.4 ms for 100 events against 0.40 ms before, 10.8 against 2.1 ms for 1,000 and 187
against 514 ms for 1M (medians of 41/41/7 alternating rounds, load ~2-3): a small write (an API
request's) pays ~3 ms more, next to its insert's tens of ms.
"""
from __future__ import annotations

import numpy as np

SHARD_BITS = 8
SHARDS = 1 << SHARD_BITS
KEEP_SHIFT = 64 - SHARD_BITS - 32  # the kept 32 bits sit just below the shard's
SMALL_SHARE = 8  # the small array is merged in when it holds 1/8 of the large one's count


def split(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uint64 hashes -> (each shard's start and end offsets, the kept 32 bits as uint32).
    Within a shard the kept bits come sorted, since the hashes are."""
    bounds = np.searchsorted(ordered >> np.uint64(64 - SHARD_BITS), np.arange(SHARDS + 1, dtype=np.uint64))
    kept = ((ordered >> np.uint64(KEEP_SHIFT)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return bounds, kept


def shard_range(first: int, last: int) -> tuple[int, int]:
    """The lowest and highest hash of shards first..last (to read them from the engine)."""
    return first << (64 - SHARD_BITS), ((last + 1) << (64 - SHARD_BITS)) - 1


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a):
        return b
    merged = np.concatenate([a, b])
    merged.sort(kind="stable")  # two sorted runs: one linear merge, in place
    return merged


class IdIndex:
    """The fingerprints of `rows` stored hashes. Valid while event_ids holds `rows` rows (any
    other count means another writer or a database made again: the caller reloads it)."""

    def __init__(self, rows: int = 0):
        self.rows = rows
        empty = np.zeros(0, dtype=np.uint32)
        self.large = [empty] * SHARDS
        self.small = [empty] * SHARDS

    def candidates(self, ordered: np.ndarray) -> np.ndarray:
        """True where a hash of the sorted uint64 array `ordered` may be stored (its fingerprint
        is; confirm it). Sorted probes walk each array in order."""
        bounds, kept = split(ordered)
        hit = np.zeros(len(ordered), dtype=bool)
        for s in np.flatnonzero(np.diff(bounds)):
            lo, hi = bounds[s], bounds[s + 1]
            probe = kept[lo:hi]
            for stored in (self.large[s], self.small[s]):
                if len(stored):
                    pos = np.minimum(np.searchsorted(stored, probe), len(stored) - 1)
                    hit[lo:hi] |= stored[pos] == probe
        return hit

    def add(self, ordered: np.ndarray) -> None:
        """Record newly stored hashes (a sorted uint64 array)."""
        bounds, kept = split(ordered)
        for s in np.flatnonzero(np.diff(bounds)):
            small = _merge(self.small[s], kept[bounds[s]:bounds[s + 1]].copy())
            if len(small) * SMALL_SHARE >= len(self.large[s]):
                self.large[s], small = _merge(self.large[s], small), np.zeros(0, dtype=np.uint32)
            self.small[s] = small
        self.rows += len(ordered)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.large) + sum(a.nbytes for a in self.small)
