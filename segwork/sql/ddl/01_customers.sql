-- customers: an append-only log of profile versions; the latest `timestamp` per customer_id
-- is the profile. ReplacingMergeTree(timestamp) keeps that version when parts merge and
-- reads with FINAL never see an older one, so no query counts a customer twice or shows a
-- stale profile. Unpartitioned: monthly partitions split each insert into dozens of parts
-- (performance-notes.md). A minute after the last insert the parts are merged into one
-- (min_age_to_force_merge_*): FINAL then has nothing to merge (1M profiles in 5 loaded
-- parts, which ClickHouse's merge selector leaves alone: summary 86 -> 24 ms, bench/).
-- A lookup reads one granule of every column: 1024 rows (not 8192) in 8 KiB compressed
-- blocks (not 64 KiB-1 MiB) make that 7.5 -> 6.6 ms inside the engine at 1M profiles, for
-- +3 ms on a scan of all profiles (summary 25 -> 28 ms; bench/).
-- Missing text is stored as '' and a missing age as 0 (ages are validated to 1..120, so
-- 0 only ever means "unknown").
-- A deleted customer is a version with is_deleted = 1 (segwork.history.delete_customers): FINAL
-- keeps it as the latest version and every query reads `WHERE NOT is_deleted`, so an older
-- version arriving later cannot bring the customer back; a newer one re-creates them. Every
-- version, the merged-away ones included, is kept in customer_history (schema version 4).
CREATE TABLE IF NOT EXISTS customers (
    customer_id    String,
    name           String,
    email          String,
    age            Int32,
    gender         LowCardinality(String),
    location       LowCardinality(String),
    signup_date    DateTime('UTC'),
    lifetime_value Float64,
    timestamp      DateTime('UTC'),
    is_deleted     UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(timestamp)
ORDER BY customer_id
SETTINGS index_granularity = 1024, min_compress_block_size = 8192, max_compress_block_size = 8192,
         non_replicated_deduplication_window = 10000,
         min_age_to_force_merge_seconds = 60, min_age_to_force_merge_on_partition_only = 1
