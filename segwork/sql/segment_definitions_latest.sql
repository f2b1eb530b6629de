-- segment_definitions_latest: each saved segment's latest version (removed ones left out), by name.
SELECT name, version, definition, note, saved_at
FROM (SELECT * FROM segment_definitions ORDER BY version DESC LIMIT 1 BY name)
WHERE NOT removed
ORDER BY name
