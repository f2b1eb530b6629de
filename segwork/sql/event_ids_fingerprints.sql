-- event_ids_fingerprints: the stored event ids' hashes from shard {first:UInt16} to {last:UInt16}
-- (their top 8 bits), as a writer's in-memory index keeps them: the shard and the next 32 bits,
-- in hash order (segwork/ingestion/idindex.py). Read a range of shards at a time, by primary key.
SELECT toUInt16(bitShiftRight(h, 56)) AS shard, toUInt32(bitAnd(bitShiftRight(h, 24), 4294967295)) AS kept
FROM event_ids
WHERE h >= bitShiftLeft(toUInt64({first:UInt16}), 56)
  AND h <= bitOr(bitShiftLeft(toUInt64({last:UInt16}), 56), 72057594037927935)  -- 2^56 - 1
ORDER BY h
