-- Create customer_history_mv, which keeps customer_history in step with customers from now on.
-- Made before the stored versions are copied (next step), so a version inserted meanwhile is kept.
CREATE MATERIALIZED VIEW IF NOT EXISTS customer_history_mv TO customer_history
AS SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp, is_deleted
FROM customers
