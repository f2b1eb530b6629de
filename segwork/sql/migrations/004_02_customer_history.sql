-- Create customer_history, every profile version (sql/ddl/15_customer_history.sql as it is at
-- schema version 4: a migration keeps its version's layout when the DDL moves on).
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
