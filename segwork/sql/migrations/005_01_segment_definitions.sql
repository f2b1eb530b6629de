-- Create segment_definitions, the saved segment definitions and their versions
-- (sql/ddl/18_segment_definitions.sql as it is at schema version 5).
CREATE TABLE IF NOT EXISTS segment_definitions (
    name       String,
    version    UInt32,
    definition String,
    note       String,
    saved_at   DateTime64(6, 'UTC'),
    removed    Bool
)
ENGINE = MergeTree
ORDER BY (name, version)
