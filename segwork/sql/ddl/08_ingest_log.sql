-- One row per state of an ingest: 'started' before its first insert, 'running' after each
-- insert (counts so far), then 'finished' or 'failed' (counts and error). The newest row per
-- ingest_id is its state: one whose newest row is 'started' or 'running' was interrupted
-- (killed, machine down) and is reported as incomplete, with the rows known to be in.
CREATE TABLE IF NOT EXISTS ingest_log (
    ingest_id   String,
    table_name  LowCardinality(String),
    source      String,
    rows_read   UInt64,
    inserted    UInt64,
    duplicates  UInt64,
    quarantined UInt64,
    started_at  DateTime64(3, 'UTC'),
    elapsed_s   Float64,
    status      LowCardinality(String),
    error       String,
    updated_at  DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY started_at
