-- schema_version: the schema version recorded in a database (0: none yet, a creation cut short).
SELECT max(version) FROM {database:Identifier}.segwork_meta
