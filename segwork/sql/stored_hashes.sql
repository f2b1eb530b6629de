-- stored_hashes: which of these event id hashes event_ids holds (found by primary key): the
-- in-memory index's hits (a 38-bit fingerprint) confirmed by the whole 64-bit hash.
SELECT DISTINCT h FROM event_ids WHERE h IN (SELECT arrayJoin({hashes:Array(UInt64)}))
