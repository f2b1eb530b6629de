-- customer_engagement_analysis: events and event value per customer in [start_date, end_date]
-- (inclusive) for the chosen event types (empty = all), optionally for one location; top
-- `limit` customers by `order_by` (event_count or total_value), ties by the other measure,
-- then customer_id. Customers with events but no profile keep empty fields.
-- How it stays near the engine's limit (bench/RESULTS.md, 30M events):
-- - events are aggregated once and only the top `limit` rows are kept (`top`, a
--   MATERIALIZED CTE: computed once, ClickHouse 26.3+); profiles are then read for those ids
--   only (`IN top` uses the primary key: a few granules instead of 1M profiles, 159 -> 117 ms);
-- - `segwork_events` is customer_events, or with a location chosen ("@located") the events of
--   its customers, a set built before the query runs (sql/tables/located_events.sql); without
--   a location there is no set at all (the set guarded empty took 6.8 ms against 2.7 for
--   SELECT 1 at 1M profiles, load ~4; dropping it, 179.7 -> 171.4 ms for the query, load ~1-3);
-- - the top customers' profiles are read from `customers FINAL` with the key condition inside
--   (segwork_latest_versions, deletions left out there), not through segwork_profiles' subquery;
--   with the set gone, 126.7 -> 117.5 ms (41 interleaved runs, load ~1.7);
-- - event types are matched with IN, which runs on LowCardinality's dictionary (has()
--   compared every row's string: 1.7x slower).
WITH top AS MATERIALIZED (
    SELECT
        customer_id,
        count() AS event_count,
        segwork_total(event_value) AS total_value,
        min(timestamp) AS first_event,
        max(timestamp) AS last_event
    FROM segwork_events
    WHERE timestamp >= {start_date:DateTime('UTC')}
      AND timestamp <= {end_date:DateTime('UTC')}
      AND (empty({event_types:Array(String)}) OR event_type IN {event_types:Array(String)})
    GROUP BY customer_id
    ORDER BY
        if({order_by:String} = 'total_value', total_value, toFloat64(event_count)) DESC,
        if({order_by:String} = 'total_value', toFloat64(event_count), total_value) DESC,
        customer_id ASC
    LIMIT {limit:UInt32}
)
SELECT
    a.customer_id AS customer_id,
    p.name AS name,
    p.email AS email,
    p.location AS location,
    a.event_count AS event_count,
    a.total_value AS total_value,
    a.first_event AS first_event,
    a.last_event AS last_event,
    if(p.customer_id = '', '', segwork_value_segment(p.lifetime_value, {high_value:Float64}, {medium_value:Float64})) AS value_segment,
    if(p.customer_id = '', '', segwork_loyalty_segment(p.signup_date, {as_of:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64})) AS loyalty_segment
FROM top AS a
LEFT JOIN (
    SELECT customer_id, name, email, location, lifetime_value, signup_date
    FROM segwork_latest_versions
    WHERE customer_id IN (SELECT customer_id FROM top) AND NOT is_deleted
) AS p ON p.customer_id = a.customer_id
ORDER BY
    if({order_by:String} = 'total_value', total_value, toFloat64(event_count)) DESC,
    if({order_by:String} = 'total_value', toFloat64(event_count), total_value) DESC,
    customer_id ASC
SETTINGS enable_materialized_cte = 1
