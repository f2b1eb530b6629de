-- The value segment rule, defined once for every query (labels as in segwork.segments).
-- A query calls it as segwork_value_segment(...); sqlfiles writes this body in its place when
-- the query is loaded. Not a CREATE FUNCTION: SQL functions are global to a ClickHouse server,
-- so every segwork database on it would share one definition (the last one created) and lose
-- it when another deployment dropped it.
(lifetime_value, high_value, medium_value) ->
    multiIf(lifetime_value >= high_value, 'High Value', lifetime_value >= medium_value, 'Medium Value', 'Low Value')
