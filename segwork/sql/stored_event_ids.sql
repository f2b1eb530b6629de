-- stored_event_ids: which of these event ids are stored, compared as text in customer_events
-- (asked only for ids whose hash event_ids holds: real repeats, or a rare hash collision).
SELECT DISTINCT event_id FROM customer_events WHERE event_id IN (SELECT arrayJoin({ids:Array(String)}))
