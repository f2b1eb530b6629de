-- customer_timeline: one customer's events, newest first, a page at a time (limit/offset), only
-- the chosen event types (empty = all) in [start_date, end_date] (NULL = open): the lookup page's
-- timeline and its downloads. customer_event_count.sql counts the same rows.
SELECT customer_id, event_id, event_type, event_value, product_id, category, timestamp
FROM customer_events
WHERE customer_id = {customer_id:String}
  AND (empty({event_types:Array(String)}) OR event_type IN {event_types:Array(String)})
  AND (isNull({start_date:Nullable(DateTime('UTC'))}) OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
  AND (isNull({end_date:Nullable(DateTime('UTC'))}) OR timestamp <= {end_date:Nullable(DateTime('UTC'))})
ORDER BY timestamp DESC, event_id ASC
LIMIT {limit:UInt32} OFFSET {offset:UInt64}
