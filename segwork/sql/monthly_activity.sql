-- monthly_activity: per calendar month (UTC) in [start_date, end_date], for the chosen event
-- types (empty = all): how many customers were active, how many events they made and their
-- net event value. Months without any event are not returned.
SELECT
    toStartOfMonth(timestamp) AS month,
    uniqExact(customer_id) AS active_customers,
    count() AS events,
    segwork_total(event_value) AS total_value
FROM customer_events
WHERE timestamp >= {start_date:DateTime('UTC')}
  AND timestamp <= {end_date:DateTime('UTC')}
  AND (empty({event_types:Array(String)}) OR event_type IN {event_types:Array(String)})
GROUP BY month
ORDER BY month ASC
