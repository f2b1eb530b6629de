-- event_ids_range: the stored event ids' hashes from {lo:UInt64} to {hi:UInt64}, sorted: a writer's
-- in-memory index is loaded a range of shards at a time (segwork/ingestion/idindex.py), by primary key.
SELECT h FROM event_ids WHERE h >= {lo:UInt64} AND h <= {hi:UInt64} ORDER BY h
