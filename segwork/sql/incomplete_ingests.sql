-- incomplete_ingests: ingests whose latest state is 'started' or 'running' (interrupted, or
-- running right now) and that no later finished ingest of the same source has completed.
SELECT l.ingest_id AS ingest_id, l.table_name AS table_name, l.source AS source, l.rows_read AS rows_read,
       l.inserted AS inserted, l.duplicates AS duplicates, l.quarantined AS quarantined,
       l.started_at AS started_at, l.status AS status
FROM (SELECT * FROM ingest_log ORDER BY updated_at DESC LIMIT 1 BY ingest_id) AS l
LEFT JOIN (
    SELECT table_name, source, max(started_at) AS done_at FROM ingest_log WHERE status = 'finished' GROUP BY table_name, source
) AS f ON f.table_name = l.table_name AND f.source = l.source
WHERE l.status IN ('started', 'running') AND f.done_at < l.started_at
ORDER BY started_at DESC
LIMIT {limit:UInt32}
