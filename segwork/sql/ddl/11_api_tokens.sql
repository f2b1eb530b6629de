-- api_tokens: tokens of the HTTP API. Only the SHA-256 of a token is stored; the token itself
-- is shown once, when it is created. Every change (creation, revocation) is a new version of
-- the row: the latest `updated_at` per name wins, read with FINAL.
CREATE TABLE IF NOT EXISTS api_tokens (
    name         String,
    token_hash   String,
    scopes       Array(String),
    fixed_params Map(String, String),
    created_at   DateTime('UTC'),
    updated_at   DateTime64(6, 'UTC'),
    revoked      Bool
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY name
