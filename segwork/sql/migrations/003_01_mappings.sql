-- Create mappings, the saved column mappings (sql/ddl/14_mappings.sql as it is at schema
-- version 3: a migration keeps its version's layout when the DDL moves on).
CREATE TABLE IF NOT EXISTS mappings (
    name     String,
    spec     String,
    saved_at DateTime64(6, 'UTC'),
    removed  Bool
)
ENGINE = ReplacingMergeTree(saved_at)
ORDER BY name
