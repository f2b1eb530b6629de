-- workspace_identity: the database the API serves (its name, the engine's UUID of it, stable
-- across restarts) and when segwork made it (its first schema version), for GET /v0/workspace.
SELECT
    currentDatabase() AS name,
    (SELECT toString(uuid) FROM system.databases WHERE name = currentDatabase()) AS uuid,
    (SELECT min(set_at) FROM segwork_meta) AS created_at
