-- mappings: column mappings people saved (segwork.mapping), by name, as the JSON they edit in
-- the workbench. Every save or removal is a new version; the latest `saved_at` per name wins,
-- read with FINAL (like api_tokens). Built-in mappings ship with segwork and are not stored.
CREATE TABLE IF NOT EXISTS mappings (
    name     String,
    spec     String,
    saved_at DateTime64(6, 'UTC'),
    removed  Bool
)
ENGINE = ReplacingMergeTree(saved_at)
ORDER BY name
