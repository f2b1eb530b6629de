-- segment_sizes_over_time: how many customers each (value, loyalty) segment had at the end of
-- each day in [start_date, end_date] (UTC), computed from the profile history, optionally for
-- one location and an age range (each judged on the version in effect that day). `every`
-- = 'day' keeps every day, 'week' each Sunday, 'month' each month's last day; the last day of
-- the range is always kept. A customer counts at the end of day d with their latest version
-- with timestamp <= d 23:59:59 unless it is a deletion: what customer_segments_summary says
-- with as_of = d 23:59:59. Only segments with members at some point in the range are listed.
-- How (one pass over the history, no snapshots): each version is in effect from its day to
-- the next version's day; in that span its value segment is fixed and its loyalty segment
-- changes at most twice, on the days signup + regular_days + 1 and signup + loyal_days + 1
-- (the loyalty rule: days since signup > regular_days / > loyal_days). Each piece adds 1 to
-- its segment on its first day and takes 1 away after its last; a running sum per segment
-- gives each day's size. Days are numbers (days since 1970-01-01) until the end.
WITH
    toInt64(toDate({start_date:DateTime('UTC')})) AS first_day,
    toInt64(toDate({end_date:DateTime('UTC')})) AS last_day,
    versions AS (
        SELECT arraySort(v -> v.1, groupArray((toInt64(toDate(timestamp)), is_deleted, lifetime_value,
                                               toInt64(toDate(signup_date)), location, age))) AS vs
        FROM customer_history
        WHERE timestamp < toDateTime(toDate({end_date:DateTime('UTC')}) + 1, 'UTC')
        GROUP BY customer_id
    ),
    spans AS (
        SELECT
            vs[i].3 AS lifetime_value,
            vs[i].4 AS signup_day,
            greatest(vs[i].1, first_day) AS span_from,
            least(if(i < length(vs), vs[i + 1].1, last_day + 1), last_day + 1) AS span_to
        FROM versions
        ARRAY JOIN arrayEnumerate(vs) AS i
        WHERE NOT vs[i].2
          AND (isNull({location:Nullable(String)}) OR vs[i].5 = {location:Nullable(String)})
          AND (isNull({min_age:Nullable(Int32)}) OR vs[i].6 >= {min_age:Nullable(Int32)})
          AND (isNull({max_age:Nullable(Int32)}) OR (vs[i].6 > 0 AND vs[i].6 <= {max_age:Nullable(Int32)}))
    ),
    pieces AS (
        SELECT value_segment, piece.1 AS loyalty_segment, piece.2 AS piece_from, piece.3 AS piece_to
        FROM (
            SELECT
                segwork_value_segment(lifetime_value, {high_value:Float64}, {medium_value:Float64}) AS value_segment,
                [('New', span_from, least(span_to, signup_day + {regular_days:Int64} + 1)),
                 ('Regular', greatest(span_from, signup_day + {regular_days:Int64} + 1), least(span_to, signup_day + {loyal_days:Int64} + 1)),
                 ('Loyal', greatest(span_from, signup_day + {loyal_days:Int64} + 1), span_to)] AS cut
            FROM spans
            WHERE span_from < span_to
        )
        ARRAY JOIN cut AS piece
        WHERE piece.2 < piece.3
    ),
    changes AS (
        SELECT day, value_segment, loyalty_segment, sum(delta) AS delta
        FROM (
            SELECT piece_from AS day, value_segment, loyalty_segment, 1 AS delta FROM pieces
            UNION ALL
            SELECT piece_to AS day, value_segment, loyalty_segment, -1 AS delta FROM pieces WHERE piece_to <= last_day
        )
        GROUP BY day, value_segment, loyalty_segment
    ),
    segments AS (SELECT DISTINCT value_segment, loyalty_segment FROM changes),
    days AS (SELECT first_day + number AS day FROM numbers(toUInt64(last_day - first_day + 1)))
SELECT toDate('1970-01-01') + toIntervalDay(day_number) AS day, value_segment, loyalty_segment, customers
FROM (
    SELECT d.day AS day_number, s.value_segment AS value_segment, s.loyalty_segment AS loyalty_segment,
           toUInt64(sum(c.delta) OVER (PARTITION BY s.value_segment, s.loyalty_segment ORDER BY d.day)) AS customers
    FROM days AS d
    CROSS JOIN segments AS s
    LEFT JOIN changes AS c ON c.day = d.day AND c.value_segment = s.value_segment AND c.loyalty_segment = s.loyalty_segment
)
WHERE {every:String} = 'day'
   OR day_number = last_day
   OR ({every:String} = 'week' AND toDayOfWeek(toDate('1970-01-01') + toIntervalDay(day_number)) = 7)
   OR ({every:String} = 'month' AND toMonth(toDate('1970-01-01') + toIntervalDay(day_number + 1)) != toMonth(toDate('1970-01-01') + toIntervalDay(day_number)))
ORDER BY day_number, value_segment, loyalty_segment
