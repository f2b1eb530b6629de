-- Fills event_ids from every insert into customer_events (the same insert; an insert writes
-- customer_events first, so a process killed in between leaves ids out: see event_ids_repair).
CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv TO event_ids
AS SELECT sipHash64(event_id) AS h FROM customer_events
