-- quarantine_tokens_seen: which of these bad-record tokens are in the quarantine table already
-- (the table name comes from a whitelist: customers_quarantine or customer_events_quarantine).
SELECT DISTINCT c__token FROM {quarantine_table:Identifier} WHERE c__token IN {tokens:Array(String)}
