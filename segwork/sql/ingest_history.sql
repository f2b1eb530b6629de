-- ingest_history: the latest ingests, newest first, each in its latest state ('finished',
-- 'failed', or 'started'/'running' for one that was interrupted: ingest the same input again).
SELECT *
FROM (SELECT * FROM ingest_log ORDER BY updated_at DESC LIMIT 1 BY ingest_id)
ORDER BY started_at DESC
LIMIT {limit:UInt32}
