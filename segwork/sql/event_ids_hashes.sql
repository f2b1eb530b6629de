-- event_ids_hashes: every stored event id's hash, to build a writer's in-memory index.
SELECT h FROM event_ids
