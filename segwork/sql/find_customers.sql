-- find_customers: customers whose id starts with the text, or whose email or name starts with
-- it in any case of any script (lowerUTF8: 'IVAN MÜ' finds 'Ivan Müller'; plain lower() folds
-- ASCII only), exact id matches first. lowerUTF8 lowers as Python's str.lower() does (ICU),
-- 'ẞ' -> 'ß', 'İ' -> 'i̇'; tests/test_lookup.py checks it against that oracle.
SELECT customer_id, name, email, location, lifetime_value, signup_date
FROM segwork_profiles
WHERE startsWith(customer_id, {text:String})
   OR startsWith(lowerUTF8(email), lowerUTF8({text:String}))
   OR startsWith(lowerUTF8(name), lowerUTF8({text:String}))
ORDER BY customer_id = {text:String} DESC, customer_id ASC
LIMIT {limit:UInt32}
