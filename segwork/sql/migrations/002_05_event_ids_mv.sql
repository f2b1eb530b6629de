-- Create event_ids_mv, which keeps event_ids in step with customer_events from now on. Made
-- before the stored ids are copied (next step), so an event inserted meanwhile is not missed.
CREATE MATERIALIZED VIEW IF NOT EXISTS event_ids_mv TO event_ids
AS SELECT sipHash64(event_id) AS h FROM customer_events
