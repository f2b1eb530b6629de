-- segment_exports: each time the members who entered and left a segment were handed out
-- (`python -m segwork segment diff NAME --record`, the workbench's download, the webhook), so
-- that `--since last` starts where the last export ended. Append-only.
CREATE TABLE IF NOT EXISTS segment_exports (
    segment     String,
    since       DateTime('UTC'),
    until       DateTime('UTC'),
    entered     UInt64,
    exited      UInt64,
    destination String,
    exported_at DateTime64(6, 'UTC')
)
ENGINE = MergeTree
ORDER BY (segment, until)
