-- segwork_meta: the schema version of this database, a row each time it was set (created at a
-- version, or migrated to one); the highest is the database's version. segwork opens only a
-- database at its own version: an older one is upgraded in place by `python -m segwork migrate`,
-- a newer one is refused. Created first, so a creation cut short (the table without a row) is
-- finished on the next start; a migration creates it last, so one cut short is run again.
CREATE TABLE IF NOT EXISTS segwork_meta (
    version UInt32,
    set_at  DateTime64(6, 'UTC'),
    how     String
)
ENGINE = MergeTree
ORDER BY set_at
