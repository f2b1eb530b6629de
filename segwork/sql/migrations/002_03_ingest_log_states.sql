-- Add status, error and updated_at to ingest_log (its rows become states of an ingest).
-- Version 1 wrote one row per ingest once it had finished, so its rows read as 'finished',
-- without error, last updated when they started.
ALTER TABLE ingest_log
    ADD COLUMN IF NOT EXISTS status LowCardinality(String) DEFAULT 'finished' AFTER elapsed_s,
    ADD COLUMN IF NOT EXISTS error String AFTER status,
    ADD COLUMN IF NOT EXISTS updated_at DateTime64(6, 'UTC') DEFAULT started_at AFTER error
