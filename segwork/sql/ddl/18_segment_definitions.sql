-- segment_definitions: the segments people define (segwork.custom), every save a new version
-- (1, 2, ...) with its time and an optional note; a removal is a version with removed = 1. The
-- definition is its JSON (segwork.custom.codec), validated before it is stored and again when
-- it is read. A segment is read as it is now (its latest version) or as it was at a version.
CREATE TABLE IF NOT EXISTS segment_definitions (
    name       String,
    version    UInt32,
    definition String,
    note       String,
    saved_at   DateTime64(6, 'UTC'),
    removed    Bool
)
ENGINE = MergeTree
ORDER BY (name, version)
