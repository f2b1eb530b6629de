-- segment_changes: who entered and who left the segment `segment` (a place in the `by`
-- segmenting) between date_a and date_b: change_kind 'entered' (there at date_b, not at
-- date_a) or 'exited' (the other way round), with where they came from / went to and why.
SELECT
    customer_id,
    if(to_state = {segment:String}, 'entered', 'exited') AS change_kind,
    from_state, to_state, change, value_move, loyalty_move,
    name, email, location, lifetime_value_a, lifetime_value_b, days_since_signup_a, days_since_signup_b
FROM segwork_moves
WHERE (to_state = {segment:String}) != (from_state = {segment:String})
ORDER BY change_kind, customer_id
