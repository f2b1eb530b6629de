"""A writer's in-memory index of the stored event ids (embedded engine; segwork.ingestion.dedup).

Every stored event_id's sipHash64 is in event_ids. The index keeps a 38-bit fingerprint of each:
the hash's top SHARD_BITS bits pick a shard and the next KEPT_BITS (30) are kept, sorted, in that
shard. A hit is confirmed by the whole hash in event_ids (unless a batch has so many hits that
they are plainly an input sent again), then by the id's text (dedup), so a fingerprint shared by
chance costs a lookup, never a lost or doubled event: at 100M stored ids about 1 probe in 2,750
is such a false hit (~360 whole-hash lookups in one query per 1M-event batch). This relies on
event_ids holding every stored event's hash (dedup reloads the index whenever event_ids' count
differs from the index's, and repairs event_ids first when customer_events holds more rows).

Layout (issue 16, peak memory of a 100M-event load): each shard has one large sorted set and a
small uint32 array for what came since; the small one is merged into the large one when it
reaches 1/SMALL_SHARE of it, so a merge holds about two copies of one shard (1/256 of the index).
A large set of COMPACT_FROM or more fingerprints is packed (`Packed`): its 30 bits split into a
14-bit bucket, whose offsets are kept (64 KiB a shard), and a 16-bit remainder kept as uint16, so
~2.2 bytes an event in all at 100M instead of 4 (210.6 MiB for 100M random hashes); a smaller one
stays a plain uint32 array (the offsets would outweigh what packing saves), so a small database
costs what it did. A packed set is searched by a binary search within each probe's bucket,
vectorised over the probes.
"""
from __future__ import annotations

import numpy as np

SHARD_BITS = 8
SHARDS = 1 << SHARD_BITS
KEPT_BITS = 30
KEEP_SHIFT = 64 - SHARD_BITS - KEPT_BITS  # the kept bits sit just below the shard's
KEPT_MASK = (1 << KEPT_BITS) - 1
REMAINDER_BITS = 16
BUCKETS = 1 << (KEPT_BITS - REMAINDER_BITS)
COMPACT_FROM = 4 * BUCKETS  # packed: 2 bytes each + 64 KiB of offsets, against 4 bytes each
FEW = 8  # probes of a packed set looked up one by one (a vectorised search costs ~40 us a shard)
SMALL_SHARE = 16  # the small array is merged in when it holds 1/16 of the large one's count


def split(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted uint64 hashes -> (each shard's start and end offsets, the kept bits as uint32).
    Within a shard the kept bits come sorted, since the hashes are."""
    bounds = np.searchsorted(ordered >> np.uint64(64 - SHARD_BITS), np.arange(SHARDS + 1, dtype=np.uint64))
    kept = ((ordered >> np.uint64(KEEP_SHIFT)) & np.uint64(KEPT_MASK)).astype(np.uint32)
    return bounds, kept


def shard_range(first: int, last: int) -> tuple[int, int]:
    """The lowest and highest hash of shards first..last (to read them from the engine)."""
    return first << (64 - SHARD_BITS), ((last + 1) << (64 - SHARD_BITS)) - 1


class Packed:
    """A sorted uint32 set of kept bits as bucket offsets and uint16 remainders."""

    @classmethod
    def of(cls, kept: np.ndarray) -> "Packed":
        """The sorted uint32 `kept`, packed."""
        return cls(np.bincount(kept >> REMAINDER_BITS, minlength=BUCKETS), kept.astype(np.uint16))  # the low 16 bits

    def __init__(self, counts: np.ndarray, remainders: np.ndarray):
        """From each bucket's count and the remainders, bucket after bucket."""
        self.offsets = np.zeros(BUCKETS + 1, dtype=np.uint32)
        np.cumsum(counts, out=self.offsets[1:])
        self.remainders = remainders
        self.steps = int(counts.max()).bit_length()  # a binary search's steps in the fullest bucket

    def __len__(self) -> int:
        return len(self.remainders)

    @property
    def nbytes(self) -> int:
        return self.offsets.nbytes + self.remainders.nbytes

    def unpacked(self) -> np.ndarray:
        buckets = np.arange(BUCKETS, dtype=np.uint32) << np.uint32(REMAINDER_BITS)
        return np.repeat(buckets, np.diff(self.offsets)) | self.remainders

    def with_(self, kept: np.ndarray) -> "Packed":
        """This set and the sorted uint32 `kept`: an insert into the remainders at each one's place,
        without unpacking (a shard's merge, 1/16 of it new). A value already in the set (two
        hashes sharing a fingerprint) is then held twice, which membership does not mind."""
        counts = np.diff(self.offsets) + np.bincount(kept >> REMAINDER_BITS, minlength=BUCKETS).astype(np.uint32)
        return Packed(counts, np.insert(self.remainders, self._lower_bounds(kept)[0], kept.astype(np.uint16)))

    def contains(self, probe: np.ndarray) -> np.ndarray:
        """True where a kept value of `probe` (uint32) is in the set."""
        if len(probe) <= FEW:
            return np.array([self._has(int(p)) for p in probe], dtype=bool)
        at, end = self._lower_bounds(probe)
        return (at < end) & (self.remainders[np.minimum(at, len(self.remainders) - 1)] == probe.astype(np.uint16))

    def _lower_bounds(self, probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each kept value of `probe` is or would go in the remainders, and the end of its
        bucket: a binary search in each one's bucket, all probes a step at a time."""
        bucket = (probe >> REMAINDER_BITS).astype(np.intp)
        wanted = probe.astype(np.uint16)
        lo, end = self.offsets[bucket].astype(np.intp), self.offsets[bucket + 1].astype(np.intp)
        hi, last = end, len(self.remainders) - 1  # np.where below makes new arrays: end stays
        for _ in range(self.steps):
            mid = (lo + hi) >> 1
            right = (lo < hi) & (self.remainders[np.minimum(mid, last)] < wanted)
            lo = np.where(right, mid + 1, lo)
            hi = np.where(right, hi, mid)
        return lo, end

    def _has(self, kept: int) -> bool:
        bucket = kept >> REMAINDER_BITS
        stored = self.remainders[self.offsets[bucket]:self.offsets[bucket + 1]]
        at = stored.searchsorted(kept & 0xFFFF)
        return bool(at < len(stored) and stored[at] == kept & 0xFFFF)


def _contains(stored, probe: np.ndarray) -> np.ndarray:
    if isinstance(stored, Packed):
        return stored.contains(probe)
    pos = np.minimum(np.searchsorted(stored, probe), len(stored) - 1)
    return stored[pos] == probe


def _merge(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if not len(a):
        return b
    merged = np.concatenate([a, b])
    merged.sort(kind="stable")  # two sorted runs: one linear merge, in place
    return merged


class IdIndex:
    """The fingerprints of `rows` stored hashes. Valid while event_ids holds `rows` rows (any
    other count means another writer or a database made again: the caller reloads it).
    `compact_from`: the size from which a shard's large set is packed (COMPACT_FROM unless given;
    tests lower it)."""

    def __init__(self, rows: int = 0, compact_from: int | None = None):
        self.rows = rows
        self.compact_from = COMPACT_FROM if compact_from is None else compact_from
        empty = np.zeros(0, dtype=np.uint32)
        self.large: list = [empty] * SHARDS
        self.small = [empty] * SHARDS

    def candidates(self, ordered: np.ndarray) -> np.ndarray:
        """True where a hash of the sorted uint64 array `ordered` may be stored (its fingerprint
        is; confirm it). Sorted probes walk each array in order."""
        bounds, kept = split(ordered)
        hit = np.zeros(len(ordered), dtype=bool)
        for s in np.flatnonzero(np.diff(bounds)):
            lo, hi = bounds[s], bounds[s + 1]
            for stored in (self.large[s], self.small[s]):
                if len(stored):
                    hit[lo:hi] |= _contains(stored, kept[lo:hi])
        return hit

    def add(self, ordered: np.ndarray) -> None:
        """Record newly stored hashes (a sorted uint64 array)."""
        bounds, kept = split(ordered)
        for s in np.flatnonzero(np.diff(bounds)):
            small = _merge(self.small[s], kept[bounds[s]:bounds[s + 1]].copy())
            if len(small) * SMALL_SHARE >= len(self.large[s]):
                self.large[s], small = self._merged(self.large[s], small), np.zeros(0, dtype=np.uint32)
            self.small[s] = small
        self.rows += len(ordered)

    def _merged(self, large, small: np.ndarray):
        if isinstance(large, Packed):
            return large.with_(small)
        both = _merge(large, small)
        return Packed.of(both) if len(both) >= self.compact_from else both

    def fingerprints(self, shard: int) -> np.ndarray:
        """Every kept value of a shard, sorted (uint32)."""
        large = self.large[shard]
        return _merge(large.unpacked() if isinstance(large, Packed) else large, self.small[shard])

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.large) + sum(a.nbytes for a in self.small)
