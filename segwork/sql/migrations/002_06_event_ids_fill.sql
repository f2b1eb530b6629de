-- Copy the ids of the events stored so far into event_ids, each once.
-- Version 1 could store an id twice (in two inserts): those rows stay, their id is listed once.
-- Ids event_ids has already (from event_ids_mv, or from a run of this step cut short) are
-- left out, so running it again adds nothing.
INSERT INTO event_ids (h, event_id)
SELECT sipHash64(event_id) AS h, event_id
FROM customer_events
WHERE event_id NOT IN (SELECT event_id FROM event_ids)
GROUP BY event_id
