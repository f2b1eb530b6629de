-- stored_event_ids: which of these event ids are stored; found by hash through event_ids'
-- primary key, then compared as text.
SELECT event_id FROM event_ids
WHERE h IN (SELECT sipHash64(arrayJoin({ids:Array(String)}))) AND event_id IN {ids:Array(String)}
