-- schema_state: what a database holds before segwork opens it (it may not exist yet): its
-- tables, and the columns of the tables whose layout changed between schema versions, so an
-- unversioned database (made before segwork_meta) is told apart by its layout.
SELECT
    (SELECT count() FROM system.databases WHERE name = {database:String}) > 0 AS database_exists,
    (SELECT groupArray(name) FROM system.tables WHERE database = {database:String}) AS tables,
    (SELECT groupArray(concat(table, '.', name)) FROM system.columns
     WHERE database = {database:String}
       AND table IN ('customers_quarantine', 'customer_events_quarantine', 'ingest_log')) AS columns
