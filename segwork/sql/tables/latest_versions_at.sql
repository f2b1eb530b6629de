-- latest_versions_at: each customer's latest profile version with timestamp <= as_of (a deletion
-- included). A customer with no version after as_of has it in customers (FINAL: their latest
-- version); only the others, those with a version after as_of, are read from customer_history
-- (the key lookup of `customer_id IN`), one argMax per column as before. A customer whose first
-- version is later has none. Near the present (an as_of before a few new versions) this reads
-- customers FINAL once plus the history's timestamps, not every customer's versions. The two
-- parts are disjoint and together every customer with a version <= as_of (customers FINAL holds
-- each customer's latest version: ReplacingMergeTree(timestamp), deletions kept as versions).
-- Summary at size M (1M customers), New York 25..45, medians of interleaved runs at load ~4-6
-- (bench/HISTORY_FIXES.md on branch benchhist): as_of just before 11 newer versions 634 -> 109 ms,
-- as_of 6 months back 328 -> 227 ms (every customer's versions before: one argMax per column).
SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp, is_deleted
FROM customers FINAL
WHERE timestamp <= {as_of:DateTime('UTC')}
UNION ALL
SELECT customer_id, v_name AS name, v_email AS email, v_age AS age, v_gender AS gender, v_location AS location,
       v_signup_date AS signup_date, v_lifetime_value AS lifetime_value, v_timestamp AS timestamp, v_is_deleted AS is_deleted
FROM (
    SELECT customer_id,
           argMax(name, timestamp) AS v_name,
           argMax(email, timestamp) AS v_email,
           argMax(age, timestamp) AS v_age,
           argMax(gender, timestamp) AS v_gender,
           argMax(location, timestamp) AS v_location,
           argMax(signup_date, timestamp) AS v_signup_date,
           argMax(lifetime_value, timestamp) AS v_lifetime_value,
           max(timestamp) AS v_timestamp,
           argMax(is_deleted, timestamp) AS v_is_deleted
    FROM customer_history
    WHERE timestamp <= {as_of:DateTime('UTC')}
      AND customer_id IN (SELECT customer_id FROM customer_history WHERE timestamp > {as_of:DateTime('UTC')})
    GROUP BY customer_id
)
