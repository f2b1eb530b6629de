-- Fills event_ids from every insert into customer_events (the same insert: no id is stored
-- without its event, nor the other way round).
CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv TO event_ids
AS SELECT sipHash64(event_id) AS h, event_id FROM customer_events
