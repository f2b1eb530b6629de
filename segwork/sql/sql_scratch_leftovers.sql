-- sql_scratch_leftovers: Query API request databases (segwork.api.query) that outlived their
-- request: a process killed mid-request leaves one in an embedded folder, reopened at the next start.
SELECT name FROM system.databases WHERE startsWith(name, 'segwork_sql_')
