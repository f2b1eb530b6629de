-- profile_versions: every stored version of one customer's profile, newest first (deletions
-- included, is_deleted = 1), from customer_history.
SELECT customer_id, name, email, nullIf(age, 0) AS age, gender, location, signup_date, lifetime_value,
       timestamp, is_deleted
FROM customer_history
WHERE customer_id = {customer_id:String}
ORDER BY timestamp DESC
LIMIT {limit:UInt32}
