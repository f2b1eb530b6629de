-- Fills customer_history from every insert into customers (the same insert; customers is
-- written first, so a process killed in between leaves versions out of the history: ingestion
-- checks for duplicates in customer_history, so ingesting the same input again puts them in,
-- and segwork.history.repair copies any that are still missing).
CREATE MATERIALIZED VIEW IF NOT EXISTS customer_history_mv TO customer_history
AS SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp, is_deleted
FROM customers
