-- ingest_block_seen: has a block with this content hash been inserted into the table before?
SELECT 1 FROM ingest_blocks WHERE table_name = {table_name:String} AND token = {token:String} LIMIT 1
