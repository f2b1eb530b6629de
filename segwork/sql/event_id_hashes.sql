-- event_id_hashes: the hash event_ids_mv stores, for each id of an Arrow table in the caller,
-- in the table's row order (embedded engine only: chDB's Python() table function reads the
-- variable `probe`). One thread: read by several, the rows come back out of order
-- (tests/test_dedup.py pins that the order is kept).
SELECT sipHash64(event_id) AS h FROM Python(probe) SETTINGS max_threads = 1
