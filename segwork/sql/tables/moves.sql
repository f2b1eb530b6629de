-- moves: each customer's place at date_a and at date_b (their latest version by each date, as
-- profiles_at: one who has none, or whose latest is a deletion, is `outside`), with what changed:
--   change: 'new' (no version by date_a), 'back' (deleted by date_a, back by date_b), 'deleted'
--           (gone by date_b), '' otherwise;
--   value_move: 'up:<value segment at date_b>' / 'down:...' when the value segment changed
--           (lifetime value crossed a threshold), '' otherwise;
--   loyalty_move: 'aged:<loyalty segment at date_b>' when the loyalty segment changed as days
--           since signup grew past a threshold, 'signup:...' when the signup date itself changed.
-- lifetime_value_a / days_since_signup_a are NULL for a customer outside at date_a (and _b at date_b).
-- `by` chooses the segmenting the places are given in: 'segment' ('High Value · Loyal'),
-- 'value' or 'loyalty'. One pass over the history up to date_b, grouped by customer.
SELECT
    customer_id,
    in_a, in_b, seen_a,
    if(in_a, value_then, NULL) AS lifetime_value_a,
    if(in_b, value_now, NULL) AS lifetime_value_b,
    if(in_a, dateDiff('day', signup_a, {date_a:DateTime('UTC')}), NULL) AS days_since_signup_a,
    if(in_b, dateDiff('day', signup_b, {date_b:DateTime('UTC')}), NULL) AS days_since_signup_b,
    segwork_value_segment(value_then, {high_value:Float64}, {medium_value:Float64}) AS value_a,
    segwork_value_segment(value_now, {high_value:Float64}, {medium_value:Float64}) AS value_b,
    segwork_loyalty_segment(signup_a, {date_a:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) AS loyalty_a,
    segwork_loyalty_segment(signup_b, {date_b:DateTime('UTC')}, {loyal_days:Int64}, {regular_days:Int64}) AS loyalty_b,
    if(NOT in_a, {outside:String}, multiIf({by:String} = 'value', value_a, {by:String} = 'loyalty', loyalty_a,
                                            concat(value_a, {separator:String}, loyalty_a))) AS from_state,
    if(NOT in_b, {outside:String}, multiIf({by:String} = 'value', value_b, {by:String} = 'loyalty', loyalty_b,
                                            concat(value_b, {separator:String}, loyalty_b))) AS to_state,
    multiIf(in_b AND NOT in_a, if(seen_a, 'back', 'new'), in_a AND NOT in_b, 'deleted', '') AS change,
    if(in_a AND in_b AND value_a != value_b, concat(if(value_now > value_then, 'up', 'down'), ':', value_b), '') AS value_move,
    if(in_a AND in_b AND loyalty_a != loyalty_b, concat(if(signup_a != signup_b, 'signup', 'aged'), ':', loyalty_b), '') AS loyalty_move,
    name, email, location
FROM (
    SELECT
        customer_id,
        countIf(timestamp <= {date_a:DateTime('UTC')}) > 0 AS seen_a,
        seen_a AND NOT argMaxIf(is_deleted, timestamp, timestamp <= {date_a:DateTime('UTC')}) AS in_a,
        NOT argMax(is_deleted, timestamp) AS in_b,
        argMaxIf(lifetime_value, timestamp, timestamp <= {date_a:DateTime('UTC')}) AS value_then,
        argMax(lifetime_value, timestamp) AS value_now,
        argMaxIf(signup_date, timestamp, timestamp <= {date_a:DateTime('UTC')}) AS signup_a,
        argMax(signup_date, timestamp) AS signup_b,
        argMaxIf(name, timestamp, NOT is_deleted) AS name,
        argMaxIf(email, timestamp, NOT is_deleted) AS email,
        argMaxIf(location, timestamp, NOT is_deleted) AS location
    FROM customer_history
    WHERE timestamp <= {date_b:DateTime('UTC')}
    GROUP BY customer_id
)
