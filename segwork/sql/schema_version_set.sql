-- schema_version_set: record the schema version the database is now at, and how it got there.
INSERT INTO segwork_meta (version, set_at, how)
SELECT {version:UInt32}, now64(6, 'UTC'), {how:String}
