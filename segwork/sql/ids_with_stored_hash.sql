-- ids_with_stored_hash: which of these event ids have their hash in event_ids (found by primary
-- key; a server's first step of the id check, confirmed after by stored_event_ids).
SELECT id FROM (SELECT arrayJoin({ids:Array(String)}) AS id)
WHERE sipHash64(id) IN (SELECT h FROM event_ids WHERE h IN (SELECT sipHash64(arrayJoin({ids:Array(String)}))))
