-- datasource_statistics: per data source, its rows as queries read them (customers: one per
-- current customer, as table_counts; events: every stored event), the bytes its table's active
-- parts take on disk, its table's engine UUID and keys, and its last finished ingest.
SELECT
    t.name AS name,
    toString(t.uuid) AS uuid,
    t.engine AS engine,
    t.engine_full AS engine_full,
    t.sorting_key AS sorting_key,
    t.partition_key AS partition_key,
    multiIf(t.name = 'customers', (SELECT count() FROM segwork_profiles),
            t.name = 'customer_events', (SELECT count() FROM customer_events), 0) AS row_count,
    (SELECT sum(bytes_on_disk) FROM system.parts WHERE database = currentDatabase() AND table = t.name AND active) AS bytes,
    (SELECT max(updated_at) FROM ingest_log WHERE table_name = t.name AND status = 'finished') AS last_ingest
FROM system.tables AS t
WHERE t.database = currentDatabase() AND t.name IN ('customers', 'customer_events')
ORDER BY t.name
