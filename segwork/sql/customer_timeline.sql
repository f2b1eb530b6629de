-- customer_timeline: one customer's events, newest first (for the lookup page's timeline).
SELECT event_id, event_type, event_value, product_id, category, timestamp
FROM customer_events
WHERE customer_id = {customer_id:String}
ORDER BY timestamp DESC, event_id ASC
LIMIT {limit:UInt32}
