-- rfm: recency, frequency, monetary and their scores per purchasing customer (what
-- sql/rfm_scores.sql lists, best first, and what a custom segment's RFM condition reads as
-- segwork_rfm). The rules are in rfm_scores.sql's header.
WITH per_customer AS (
    SELECT
        customer_id,
        countIf(event_type IN {purchase_types:Array(String)}) AS frequency,
        maxIf(timestamp, event_type IN {purchase_types:Array(String)}) AS last_purchase,
        dateDiff('day', last_purchase, {as_of:DateTime('UTC')}) AS recency_days,
        segwork_total(event_value) AS monetary
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
