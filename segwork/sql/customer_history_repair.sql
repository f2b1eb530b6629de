-- customer_history_repair: add the profile versions customers holds and customer_history lacks
-- (a process killed between an insert's two writes; segwork.ingestion.dedup.repair_history).
INSERT INTO customer_history
SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp, is_deleted
FROM customers
WHERE (customer_id, timestamp) NOT IN (SELECT customer_id, timestamp FROM customer_history)
