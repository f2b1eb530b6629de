-- event_ids_count: how many event ids are stored (tells a writer whether its in-memory index
-- of them is still the whole truth).
SELECT count() FROM event_ids
