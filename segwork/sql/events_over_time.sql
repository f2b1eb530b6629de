-- events_over_time: events and value per day and event type in [start_date, end_date] for the
-- chosen event types (empty = all), optionally for one location.
SELECT
    toDate(timestamp) AS day,
    event_type,
    count() AS event_count,
    segwork_total(event_value) AS total_value
FROM segwork_events
WHERE timestamp >= {start_date:DateTime('UTC')}
  AND timestamp <= {end_date:DateTime('UTC')}
  AND (empty({event_types:Array(String)}) OR event_type IN {event_types:Array(String)})
GROUP BY day, event_type
ORDER BY day ASC, event_type ASC
