-- api_tokens: the latest version of every API token (revoked ones too), by name.
SELECT name, token_hash, scopes, fixed_params, created_at, updated_at, revoked
FROM api_tokens FINAL
ORDER BY name
