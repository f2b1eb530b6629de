-- customer_events: one row per event. Monthly partitions prune date-range scans; the sort
-- key serves one customer's timeline. The dedup window makes a repeated insert block
-- (same file, same batch) a no-op.
CREATE TABLE IF NOT EXISTS customer_events (
    event_id    String,
    customer_id String,
    event_type  LowCardinality(String),
    event_value Float64,
    product_id  String,
    category    LowCardinality(String),
    timestamp   DateTime('UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (customer_id, timestamp)
SETTINGS non_replicated_deduplication_window = 10000
