-- quarantine_tokens_seen: which of these bad-record tokens are in the quarantine table already
-- (the table name comes from a whitelist: customers_quarantine or customer_events_quarantine).
-- The tokens go in as a subquery, not as `IN {tokens:Array(String)}`: against a quarantine of
-- 135,000 rows that form took 133 s for 100,000 tokens in this chDB (1.1 s on an empty table),
-- the subquery 1.5 s; the Online Retail file (135,080 bad lines) took 132 s to ingest, 115 s of it here.
SELECT DISTINCT c__token FROM {quarantine_table:Identifier}
WHERE c__token IN (SELECT arrayJoin({tokens:Array(String)}))
