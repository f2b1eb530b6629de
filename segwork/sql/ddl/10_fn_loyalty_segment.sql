-- The loyalty segment rule: calendar days (UTC) from signup_date to as_of, as DATEDIFF('day', ...).
CREATE OR REPLACE FUNCTION segwork_loyalty_segment AS (signup_date, as_of, loyal_days, regular_days) ->
    multiIf(dateDiff('day', signup_date, as_of) > loyal_days, 'Loyal',
            dateDiff('day', signup_date, as_of) > regular_days, 'Regular', 'New')
