-- transition_members: the customers who went from `from_state` at date_a to `to_state` at
-- date_b (segwork_moves), by customer_id, a page at a time; total_rows counts them all. Name,
-- email and location are from their latest version by date_b that is not a deletion.
SELECT customer_id, name, email, location, from_state, to_state, change, value_move, loyalty_move,
       lifetime_value_a, lifetime_value_b, days_since_signup_a, days_since_signup_b,
       count() OVER () AS total_rows
FROM segwork_moves
WHERE from_state = {from_state:String} AND to_state = {to_state:String} AND (in_a OR in_b)
ORDER BY customer_id
LIMIT {limit:UInt32} OFFSET {offset:UInt64}
