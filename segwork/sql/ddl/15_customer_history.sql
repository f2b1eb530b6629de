-- customer_history: every profile version ever stored, never merged away (customers keeps only
-- the latest one per customer). Kept in step with customers by customer_history_mv. Queries
-- with an as_of in the past read each customer's latest version with timestamp <= as_of here
-- (sql/profiles_at.sql); segment sizes through time and transitions are computed from it.
-- ORDER BY (customer_id, timestamp): one customer's versions are neighbours, and a version is
-- found by its key (ingestion's duplicate check reads it: a version is its (customer_id, timestamp)).
-- Granules of 1024 rows in 8 KiB blocks, as customers: a lookup at an as_of reads one customer.
CREATE TABLE IF NOT EXISTS customer_history (
    customer_id    String,
    name           String,
    email          String,
    age            Int32,
    gender         LowCardinality(String),
    location       LowCardinality(String),
    signup_date    DateTime('UTC'),
    lifetime_value Float64,
    timestamp      DateTime('UTC'),
    is_deleted     UInt8
)
ENGINE = MergeTree
ORDER BY (customer_id, timestamp)
SETTINGS index_granularity = 1024, min_compress_block_size = 8192, max_compress_block_size = 8192
