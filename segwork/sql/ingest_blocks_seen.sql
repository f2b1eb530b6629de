-- ingest_blocks_seen: which of these content hashes (one per validated chunk) were inserted
-- into the table before.
SELECT DISTINCT token FROM ingest_blocks
WHERE table_name = {table_name:String} AND token IN (SELECT arrayJoin({tokens:Array(String)}))
