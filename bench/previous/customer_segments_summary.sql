-- (bench/previous: this file as it was at commit de188e5, before profile history; bench/history.py
-- times it against today's query on the same data.)
-- customer_segments_summary: customers and average lifetime value per (value, loyalty)
-- segment, optionally for one location and an age range; highest average first. An age
-- bound only admits customers whose age is known (age 0 = unknown).
SELECT
    value_segment,
    loyalty_segment,
    count() AS customer_count,
    avg(lifetime_value) AS avg_lifetime_value,
    sum(lifetime_value) AS total_lifetime_value,
    avgIf(age, age > 0) AS avg_age
FROM (
    SELECT
        segwork_value_segment(lifetime_value, {high_value:Float64}, {medium_value:Float64}) AS value_segment,
        segwork_loyalty_segment(signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) AS loyalty_segment,
        lifetime_value,
        age
    FROM customers FINAL
    WHERE (isNull({location:Nullable(String)}) OR location = {location:Nullable(String)})
      AND (isNull({min_age:Nullable(Int32)}) OR age >= {min_age:Nullable(Int32)})
      AND (isNull({max_age:Nullable(Int32)}) OR (age > 0 AND age <= {max_age:Nullable(Int32)}))
)
GROUP BY value_segment, loyalty_segment
ORDER BY avg_lifetime_value DESC, value_segment ASC, loyalty_segment ASC
