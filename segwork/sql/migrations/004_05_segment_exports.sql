-- Create segment_exports, the log of enter/exit exports (sql/ddl/17_segment_exports.sql as it is
-- at schema version 4).
CREATE TABLE IF NOT EXISTS segment_exports (
    segment     String,
    since       DateTime('UTC'),
    until       DateTime('UTC'),
    entered     UInt64,
    exited      UInt64,
    destination String,
    exported_at DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY (segment, until)
