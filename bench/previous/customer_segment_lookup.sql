-- (bench/previous: this file as it was at commit de188e5, before profile history; bench/history.py
-- times it against today's query on the same data.)
-- customer_segment_lookup: one customer's latest profile with value and loyalty segments.
-- FINAL reads the newest profile version only; unknown age comes back as NULL.
SELECT
    customer_id,
    name,
    email,
    nullIf(age, 0) AS age,
    gender,
    location,
    signup_date,
    lifetime_value,
    dateDiff('day', signup_date, {as_of:DateTime('UTC')}) AS days_since_signup,
    segwork_value_segment(lifetime_value, {high_value:Float64}, {medium_value:Float64}) AS value_segment,
    segwork_loyalty_segment(signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) AS loyalty_segment,
    timestamp AS profile_updated_at
FROM customers FINAL
WHERE customer_id = {customer_id:String}
