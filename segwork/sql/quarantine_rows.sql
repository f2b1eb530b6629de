-- quarantine_rows: quarantined rows of one table, newest first, optionally of one ingest.
SELECT *
FROM {quarantine_table:Identifier}
WHERE {ingest_id:String} = '' OR c__import_id = {ingest_id:String}
ORDER BY insertion_date DESC, c__import_id, c__row
LIMIT {limit:UInt32}
