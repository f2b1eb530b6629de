-- ingests_finished: which of these ingest ids the ingest log has finished (the spool's replay
-- skips them: written before a crash, not yet checkpointed).
SELECT DISTINCT ingest_id FROM ingest_log
WHERE status = 'finished' AND has({ids:Array(String)}, ingest_id)
