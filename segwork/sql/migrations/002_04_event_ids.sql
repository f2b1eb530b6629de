-- Create event_ids, the hash of every stored event_id (sql/ddl/12_event_ids.sql as it is at
-- schema version 2: a migration keeps its version's layout when the DDL moves on).
CREATE TABLE IF NOT EXISTS event_ids (
    h UInt64
)
ENGINE = MergeTree
ORDER BY h
