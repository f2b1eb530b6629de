-- customer_segment_lookup: one customer's latest profile with value and loyalty segments.
-- segwork_latest_versions: customers FINAL, or at as_of each customer's latest version by then
-- (sqlfiles); a deleted customer is not found. Unknown age comes back as NULL.
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
FROM segwork_latest_versions
WHERE customer_id = {customer_id:String} AND NOT is_deleted
