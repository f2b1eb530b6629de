-- rfm_scores: recency, frequency and monetary value per customer from the events in
-- [start_date, as_of], each scored 1..5 by quintile (5 = best: most recent, most frequent,
-- highest value), and the classic R-F segment name. A customer counts when they have at
-- least one event of purchase_types; frequency counts those events, recency is calendar days
-- (UTC) from the last one to as_of, monetary is the net event_value of purchase_types and
-- return_types (returns carry negative values). Ties share a score: with customers ranked
-- worst to best (rank = first position of the tie), score = 1 + floor(5 * (rank - 1) / n).
WITH per_customer AS (
    SELECT
        customer_id,
        countIf(event_type IN {purchase_types:Array(String)}) AS frequency,
        maxIf(timestamp, event_type IN {purchase_types:Array(String)}) AS last_purchase,
        dateDiff('day', last_purchase, {as_of:DateTime('UTC')}) AS recency_days,
        sum(event_value) AS monetary
    FROM customer_events
    WHERE timestamp >= {start_date:DateTime('UTC')}
      AND timestamp <= {as_of:DateTime('UTC')}
      AND (event_type IN {purchase_types:Array(String)} OR event_type IN {return_types:Array(String)})
    GROUP BY customer_id
    HAVING frequency > 0
),
scored AS (
    SELECT
        *,
        toUInt8(1 + intDiv(5 * (rank() OVER (ORDER BY recency_days DESC) - 1), count() OVER ())) AS r_score,
        toUInt8(1 + intDiv(5 * (rank() OVER (ORDER BY frequency ASC) - 1), count() OVER ())) AS f_score,
        toUInt8(1 + intDiv(5 * (rank() OVER (ORDER BY monetary ASC) - 1), count() OVER ())) AS m_score
    FROM per_customer
)
SELECT
    customer_id,
    recency_days,
    frequency,
    monetary,
    last_purchase,
    r_score,
    f_score,
    m_score,
    concat(toString(r_score), toString(f_score), toString(m_score)) AS rfm_cell,
    multiIf(
        r_score = 5 AND f_score >= 4, 'Champions',
        r_score >= 3 AND f_score >= 4, 'Loyal Customers',
        r_score >= 4 AND f_score >= 2, 'Potential Loyalists',
        r_score = 5, 'New Customers',
        r_score = 4, 'Promising',
        r_score = 3 AND f_score = 3, 'Need Attention',
        r_score = 3, 'About to Sleep',
        f_score = 5, 'Cannot Lose Them',
        f_score >= 3, 'At Risk',
        'Hibernating') AS rfm_segment
FROM scored
ORDER BY r_score + f_score + m_score DESC, monetary DESC, customer_id ASC
