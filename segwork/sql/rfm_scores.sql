-- rfm_scores: recency, frequency and monetary value per customer from the events in
-- [start_date, as_of], each scored 1..5 by quintile (5 = best: most recent, most frequent,
-- highest value), and the classic R-F segment name. A customer counts when they have at
-- least one event of purchase_types; frequency counts those events, recency is calendar days
-- (UTC) from the last one to as_of, monetary is the net event_value of purchase_types and
-- return_types (returns carry negative values). Ties share a score: with customers ranked
-- worst to best (rank = first position of the tie), score = 1 + floor(5 * (rank - 1) / n).
SELECT *
FROM segwork_rfm
ORDER BY r_score + f_score + m_score DESC, monetary DESC, customer_id ASC
