-- segment_definition_versions: every version of one segment, newest first.
SELECT name, version, definition, note, saved_at, removed
FROM segment_definitions
WHERE name = {name:String}
ORDER BY version DESC
