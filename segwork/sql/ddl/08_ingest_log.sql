-- One row per ingest: what came in, what went where.
CREATE TABLE IF NOT EXISTS ingest_log (
    ingest_id   String,
    table_name  LowCardinality(String),
    source      String,
    rows_read   UInt64,
    inserted    UInt64,
    duplicates  UInt64,
    quarantined UInt64,
    started_at  DateTime64(3, 'UTC'),
    elapsed_s   Float64
)
ENGINE = MergeTree
ORDER BY started_at
