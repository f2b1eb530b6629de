-- customer_segment_lookup: one customer's latest profile with value and loyalty segments.
-- segwork_latest_versions: customers FINAL, or at as_of each customer's latest version by then
-- (sqlfiles); a deleted customer is not found. Unknown age comes back as NULL.
-- (PROPOSED in bench/ with the change to queries.customer_segment_lookup it needs; bench/HISTORY_FIXES.md:)
-- Read as customers FINAL, the row also comes back when it is newer than as_of, a deletion
-- included: the caller then asks the history for the profile at as_of (the "@as_of" variant).
-- So a lookup given an as_of is one query unless this customer changed after it, with no check
-- of the whole history first.
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
WHERE customer_id = {customer_id:String} AND (NOT is_deleted OR timestamp > {as_of:DateTime('UTC')})
