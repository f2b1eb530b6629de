-- cohort_retention: customers grouped by the calendar month (UTC) of their signup_date, and
-- for each month since signup up to as_of's month, how many of the cohort had at least one
-- event of event_types (empty = any) in that month. Every (cohort, month) cell up to as_of is
-- returned, months without activity as 0, so a pivot shows 0 for "nobody came back" and
-- leaves the future empty. Cohorts: signups in [start_date, as_of]; events up to as_of;
-- events from before the signup month are not counted.
WITH cohorts AS (
    SELECT customer_id, toStartOfMonth(signup_date) AS cohort_month
    FROM segwork_profiles
    WHERE signup_date >= {start_date:DateTime('UTC')} AND signup_date <= {as_of:DateTime('UTC')}
),
sizes AS (
    SELECT cohort_month, count() AS cohort_size FROM cohorts GROUP BY cohort_month
),
grid AS (
    SELECT
        cohort_month,
        cohort_size,
        arrayJoin(range(toUInt32(dateDiff('month', cohort_month, toStartOfMonth({as_of:DateTime('UTC')})) + 1))) AS months_since_signup
    FROM sizes
),
active AS (
    SELECT
        c.cohort_month AS cohort_month,
        toUInt32(dateDiff('month', c.cohort_month, toStartOfMonth(e.timestamp))) AS months_since_signup,
        uniqExact(e.customer_id) AS active_customers
    FROM customer_events AS e
    INNER JOIN cohorts AS c ON c.customer_id = e.customer_id
    WHERE e.timestamp <= {as_of:DateTime('UTC')}
      AND toStartOfMonth(e.timestamp) >= c.cohort_month
      AND (empty({event_types:Array(String)}) OR e.event_type IN {event_types:Array(String)})
    GROUP BY cohort_month, months_since_signup
)
SELECT
    g.cohort_month AS cohort_month,
    g.months_since_signup AS months_since_signup,
    g.cohort_size AS cohort_size,
    a.active_customers AS active_customers,
    a.active_customers / g.cohort_size AS retention
FROM grid AS g
LEFT JOIN active AS a ON a.cohort_month = g.cohort_month AND a.months_since_signup = g.months_since_signup
ORDER BY cohort_month ASC, months_since_signup ASC
SETTINGS join_use_nulls = 0
