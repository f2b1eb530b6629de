-- newest_profile_version: the time of the newest profile version stored (NULL when none): a
-- query at an as_of no later version exists for reads the latest profiles (segwork.queries.at).
SELECT if(count() = 0, NULL, max(timestamp)) AS newest FROM customer_history
