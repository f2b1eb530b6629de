-- ingest_history: the latest ingests, newest first.
SELECT * FROM ingest_log ORDER BY started_at DESC LIMIT {limit:UInt32}
