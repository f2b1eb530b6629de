-- profiles: each customer's profile: their latest version unless it is a deletion (a deleted
-- customer no longer exists; a later version re-creates them). What `segwork_profiles` stands
-- for; in a query run as "<name>@as_of", the profile each customer had at as_of.
SELECT customer_id, name, email, age, gender, location, signup_date, lifetime_value, timestamp
FROM segwork_latest_versions
WHERE NOT is_deleted
