-- The event types present, kept small for filter forms and parameter checks.
CREATE TABLE IF NOT EXISTS event_types (
    event_type LowCardinality(String)
)
ENGINE = ReplacingMergeTree
ORDER BY event_type
