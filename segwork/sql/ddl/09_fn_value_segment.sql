-- The value segment rule, defined once for every query (labels as in segwork.segments).
CREATE OR REPLACE FUNCTION segwork_value_segment AS (lifetime_value, high_value, medium_value) ->
    multiIf(lifetime_value >= high_value, 'High Value', lifetime_value >= medium_value, 'Medium Value', 'Low Value')
