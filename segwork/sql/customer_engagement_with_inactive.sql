-- customer_engagement_with_inactive: as customer_engagement_analysis, but every profiled
-- customer (of the location, when given) takes part, inactive ones with zero events, as the
-- tutorial's customers LEFT JOIN customer_events. Events of customers without a profile are
-- left out here.
SELECT
    c.customer_id AS customer_id,
    c.name AS name,
    c.email AS email,
    c.location AS location,
    a.event_count AS event_count,
    a.total_value AS total_value,
    if(a.event_count = 0, NULL, a.first_event) AS first_event,
    if(a.event_count = 0, NULL, a.last_event) AS last_event,
    segwork_value_segment(c.lifetime_value, {high_value:Float64}, {medium_value:Float64}) AS value_segment,
    segwork_loyalty_segment(c.signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) AS loyalty_segment
FROM (
    SELECT customer_id, name, email, location, lifetime_value, signup_date
    FROM segwork_profiles
    WHERE isNull({location:Nullable(String)}) OR location = {location:Nullable(String)}
) AS c
LEFT JOIN (
    SELECT
        customer_id,
        count() AS event_count,
        segwork_total(event_value) AS total_value,
        min(timestamp) AS first_event,
        max(timestamp) AS last_event
    FROM customer_events
    WHERE timestamp >= {start_date:DateTime('UTC')}
      AND timestamp <= {end_date:DateTime('UTC')}
      AND (empty({event_types:Array(String)}) OR event_type IN {event_types:Array(String)})
    GROUP BY customer_id
) AS a ON a.customer_id = c.customer_id
ORDER BY
    if({order_by:String} = 'total_value', total_value, toFloat64(event_count)) DESC,
    if({order_by:String} = 'total_value', toFloat64(event_count), total_value) DESC,
    customer_id ASC
LIMIT {limit:UInt32}
