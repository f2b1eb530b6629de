-- segment_transitions: how many customers went from each place at date_a to each place at
-- date_b (segwork_moves: places in the `by` segmenting, or `outside`), and what changed for
-- them (change, value_move, loyalty_move); customers outside at both dates are left out.
SELECT from_state, to_state, change, value_move, loyalty_move, count() AS customers
FROM segwork_moves
WHERE in_a OR in_b
GROUP BY from_state, to_state, change, value_move, loyalty_move
ORDER BY from_state, to_state, change, value_move, loyalty_move
