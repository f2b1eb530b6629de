-- event_id_hashes: the hash event_ids_mv stores, for each id of an Arrow table in the caller
-- (embedded engine only: chDB's Python() table function reads the variable `probe`).
SELECT sipHash64(event_id) AS h FROM Python(probe)
