-- Content hashes of inserted blocks: a block seen before is counted as a duplicate and
-- skipped, so re-ingesting a file or replaying a batch adds nothing.
CREATE TABLE IF NOT EXISTS ingest_blocks (
    table_name  LowCardinality(String),
    token       String,
    ingest_id   String,
    rows        UInt64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (table_name, token)
