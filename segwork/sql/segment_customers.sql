-- segment_customers: the customers of one segment (either part may be '' = any), with the
-- summary's filters, highest lifetime value first, a page at a time; total_rows counts the
-- whole segment.
SELECT
    customer_id, name, email, nullIf(age, 0) AS age, gender, location, signup_date, lifetime_value,
    value_segment, loyalty_segment, count() OVER () AS total_rows
FROM (
    SELECT
        *,
        segwork_value_segment(lifetime_value, {high_value:Float64}, {medium_value:Float64}) AS value_segment,
        segwork_loyalty_segment(signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) AS loyalty_segment
    FROM segwork_profiles
    WHERE (isNull({location:Nullable(String)}) OR location = {location:Nullable(String)})
      AND (isNull({min_age:Nullable(Int32)}) OR age >= {min_age:Nullable(Int32)})
      AND (isNull({max_age:Nullable(Int32)}) OR (age > 0 AND age <= {max_age:Nullable(Int32)}))
)
WHERE ({value_segment:String} = '' OR value_segment = {value_segment:String})
  AND ({loyalty_segment:String} = '' OR loyalty_segment = {loyalty_segment:String})
ORDER BY lifetime_value DESC, customer_id ASC
LIMIT {limit:UInt32} OFFSET {offset:UInt64}
