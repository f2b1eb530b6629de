-- latest_versions_at: each customer's latest profile version with timestamp <= as_of (a deletion
-- included), from customer_history, which keeps every version. A customer whose first version
-- is later has none. One argMax per column (not one of a tuple: columns a query does not use
-- are then not read; 1M customers' summary 0.92 -> 0.22 s). A filter on customer_id outside is
-- pushed into the WHERE below and reads only that key's granules.
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
    GROUP BY customer_id
)
