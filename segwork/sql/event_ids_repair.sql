-- event_ids_repair: add the hashes of stored events that event_ids lacks. An insert writes
-- customer_events before event_ids_mv writes event_ids, so a process killed in between
-- leaves events without their hashes (found in tests/test_crash.py: 15,691 of 400,000 events
-- stored twice after the rerun). Run when customer_events holds more rows than event_ids.
INSERT INTO event_ids
SELECT DISTINCT sipHash64(event_id) AS h FROM customer_events
WHERE sipHash64(event_id) NOT IN (SELECT h FROM event_ids)
