-- latest_profiles: the current profile of each customer asked for (the demo's live trickle
-- writes buyers' next profile version from it).
SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp
FROM segwork_profiles
WHERE customer_id IN (SELECT arrayJoin({ids:Array(String)}))
ORDER BY customer_id
