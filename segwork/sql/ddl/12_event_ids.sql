-- event_ids: the sipHash64 of every stored event_id, sorted, kept in step with customer_events
-- by event_ids_mv. An event_id is counted once however often it arrives: before an insert,
-- segwork drops the events whose id is stored already (the first copy wins). On the embedded
-- engine a writer keeps 38 bits of each hash in memory (segwork/ingestion/idindex.py: ~2.2 bytes
-- an event at 100M, 4 below ~16M) and looks a batch up there, a hit confirmed by the whole hash
-- here (stored_hashes.sql; past 10,000 hits in a batch, an input sent again, they go straight to
-- the id check);
-- on a server a batch's hashes are looked up here by primary key. A hash found is confirmed by
-- comparing the id itself in customer_events. Looking 1M ids up
-- in the engine (IN or JOIN over 30M stored ids) took 0.6-1.4 s here, in memory 0.2-0.3 s.
-- Hashes only (no id text): with the ids too, the size-M load of 30M events took 1.74x as
-- long as without any id check (bench/DEDUP_COST.md), the strings' writes and merges most of it.
CREATE TABLE IF NOT EXISTS event_ids (
    h UInt64
)
ENGINE = MergeTree
ORDER BY h
