-- derived_profiles: what the stored events say of some customers, for profiles derived from a
-- transaction file by its mapping (segwork.mapping.profiles): first event as signup date, net
-- summed value as lifetime value, last event as the profile's time. All stored events count,
-- not only the file's, so a second export of later orders gives a lifetime value that includes
-- the first one's.
SELECT customer_id,
       min(e.timestamp)             AS signup_date,
       round(sum(e.event_value), 2) AS lifetime_value,
       max(e.timestamp)             AS last_event
FROM customer_events AS e
WHERE customer_id IN {ids:Array(String)}
GROUP BY customer_id
