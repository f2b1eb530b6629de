-- ingest_jobs: ingests as the seed system's import jobs (GET /v0/jobs): each ingest's latest
-- state, newest first; only the ingest `ingest_id` when it is given ('' for all).
SELECT ingest_id, table_name, source, rows_read, inserted, duplicates, quarantined, started_at, elapsed_s,
       status, error, updated_at
FROM ingest_log
WHERE {ingest_id:String} = '' OR ingest_id = {ingest_id:String}
ORDER BY updated_at DESC
LIMIT 1 BY ingest_id
LIMIT {limit:UInt32}
