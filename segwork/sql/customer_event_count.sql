-- customer_event_count: how many events customer_timeline.sql would list without a limit (the
-- same filters), so the lookup page can say "latest 5,000 of 12,002" and page through the rest.
SELECT count() AS events
FROM customer_events
WHERE customer_id = {customer_id:String}
  AND (empty({event_types:Array(String)}) OR event_type IN {event_types:Array(String)})
  AND (isNull({start_date:Nullable(DateTime('UTC'))}) OR timestamp >= {start_date:Nullable(DateTime('UTC'))})
  AND (isNull({end_date:Nullable(DateTime('UTC'))}) OR timestamp <= {end_date:Nullable(DateTime('UTC'))})
