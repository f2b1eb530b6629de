-- event_types_present: the event types ingested so far (kept by event_types_mv).
SELECT DISTINCT event_type FROM event_types ORDER BY event_type
