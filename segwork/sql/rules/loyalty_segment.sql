-- The loyalty segment rule: calendar days (UTC) from signup_date to as_of, as DATEDIFF('day', ...).
-- Called as segwork_loyalty_segment(...) and written out by sqlfiles, as the value segment rule.
(signup_date, as_of, loyal_days, regular_days) ->
    multiIf(dateDiff('day', signup_date, as_of) > loyal_days, 'Loyal',
            dateDiff('day', signup_date, as_of) > regular_days, 'Regular', 'New')
