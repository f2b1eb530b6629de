-- rule_change_impact: how many customers would move from each (value, loyalty) segment under
-- the current rules to each under new ones, at as_of: the 3 x 3 (9 x 9) migration matrix shown
-- before new thresholds are applied. Customers who stay are counted too (the diagonal).
SELECT
    concat(segwork_value_segment(lifetime_value, {high_value:Float64}, {medium_value:Float64}), ' · ',
           segwork_loyalty_segment(signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64})) AS from_segment,
    concat(segwork_value_segment(lifetime_value, {new_high_value:Float64}, {new_medium_value:Float64}), ' · ',
           segwork_loyalty_segment(signup_date, {as_of:DateTime('UTC')}, {new_loyal_days:Int64}, {new_regular_days:Int64})) AS to_segment,
    count() AS customers
FROM segwork_profiles
GROUP BY from_segment, to_segment
ORDER BY from_segment, to_segment
