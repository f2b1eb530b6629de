-- datasource_columns: the stored type of every column of the data sources' tables, in order.
SELECT table, name, type
FROM system.columns
WHERE database = currentDatabase() AND table IN ('customers', 'customer_events')
ORDER BY table, position
