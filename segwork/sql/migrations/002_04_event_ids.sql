-- Create event_ids, every stored event_id with its sipHash64 (sql/ddl/12_event_ids.sql as it
-- is at schema version 2: a migration keeps its version's layout when the DDL moves on).
CREATE TABLE IF NOT EXISTS event_ids (
    h        UInt64,
    event_id String
)
ENGINE = MergeTree
ORDER BY h
SETTINGS min_age_to_force_merge_seconds = 60
