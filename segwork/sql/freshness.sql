-- freshness: latest event and profile times, and events in the hour and day before as_of.
SELECT
    (SELECT max(timestamp) FROM customer_events) AS latest_event,
    (SELECT max(timestamp) FROM customers) AS latest_profile,
    (SELECT count() FROM customer_events WHERE timestamp > {as_of:DateTime('UTC')} - INTERVAL 1 HOUR AND timestamp <= {as_of:DateTime('UTC')}) AS events_last_hour,
    (SELECT count() FROM customer_events WHERE timestamp > {as_of:DateTime('UTC')} - INTERVAL 1 DAY AND timestamp <= {as_of:DateTime('UTC')}) AS events_last_day,
    (SELECT max(started_at) FROM ingest_log) AS latest_ingest
