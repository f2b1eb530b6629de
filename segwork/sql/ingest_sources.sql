-- ingest_sources: every source that put rows into the database, with how many it inserted and
-- quarantined, read from each ingest's latest state: where the data came from (segwork.origins).
-- Sources that added nothing (every row already present) are left out.
SELECT source, sum(inserted) AS rows_inserted, sum(quarantined) AS rows_quarantined
FROM (SELECT source, inserted, quarantined FROM ingest_log ORDER BY updated_at DESC LIMIT 1 BY ingest_id)
GROUP BY source
HAVING rows_inserted + rows_quarantined > 0
ORDER BY source
