-- segment_exports_made: the recorded exports of one segment's enters/exits ('' = every
-- segment), newest first.
SELECT segment, since, until, entered, exited, destination, exported_at
FROM segment_exports
WHERE {segment:String} = '' OR segment = {segment:String}
ORDER BY exported_at DESC
LIMIT {limit:UInt32}
