-- Copy the profile versions stored so far into customer_history. Versions that customers had
-- merged away before this version of segwork are gone: the history starts with what is left
-- (at least each customer's latest version). Versions customer_history has already (from the
-- view, or from a run of this step cut short) are left out, so running it again adds nothing.
INSERT INTO customer_history
SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp, is_deleted
FROM customers
WHERE (customer_id, timestamp) NOT IN (SELECT customer_id, timestamp FROM customer_history)
