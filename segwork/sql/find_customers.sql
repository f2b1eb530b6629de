-- find_customers: customers whose id, email or name starts with the text (case-insensitive
-- for email and name), exact id matches first.
SELECT customer_id, name, email, location, lifetime_value, signup_date
FROM customers FINAL
WHERE startsWith(customer_id, {text:String})
   OR startsWith(lower(email), lower({text:String}))
   OR startsWith(lower(name), lower({text:String}))
ORDER BY customer_id = {text:String} DESC, customer_id ASC
LIMIT {limit:UInt32}
