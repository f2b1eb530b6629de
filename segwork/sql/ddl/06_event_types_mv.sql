-- Fills event_types from every insert into customer_events.
CREATE MATERIALIZED VIEW IF NOT EXISTS event_types_mv TO event_types
AS SELECT DISTINCT event_type FROM customer_events
