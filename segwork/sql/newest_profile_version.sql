-- newest_profile_version: the time of the newest profile version stored (NULL when none): a
-- query at an as_of no later version exists for reads the latest profiles (segwork.queries.exactly_at).
-- From customers, which holds each customer's latest version (so the same max as customer_history,
-- which holds every version): one forced-merged table's column, 8.8 -> 4.4 ms at size M.
SELECT if(count() = 0, NULL, max(timestamp)) AS newest FROM customers
