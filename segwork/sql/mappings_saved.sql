-- mappings_saved: the latest version of every saved mapping that is not removed, by name.
SELECT name, spec, saved_at
FROM mappings FINAL
WHERE NOT removed
ORDER BY name
