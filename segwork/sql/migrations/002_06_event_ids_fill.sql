-- Copy the hashes of the events stored so far into event_ids, each id once.
-- Version 1 could store an id twice (in two inserts): those rows stay, their id is listed once.
-- Hashes event_ids has already (from event_ids_mv, or from a run of this step cut short) are
-- left out, so running it again adds nothing.
INSERT INTO event_ids (h)
SELECT DISTINCT sipHash64(event_id) AS h
FROM customer_events
WHERE sipHash64(event_id) NOT IN (SELECT h FROM event_ids)
