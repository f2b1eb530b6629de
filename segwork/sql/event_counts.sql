-- event_counts: rows in customer_events and in event_ids (equal unless a write was interrupted).
SELECT (SELECT count() FROM customer_events) AS events, (SELECT count() FROM event_ids) AS ids
