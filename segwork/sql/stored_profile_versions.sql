-- stored_profile_versions: the profile versions stored for these customers, as
-- (customer_id, timestamp in epoch seconds); customers' primary key finds them.
SELECT customer_id, toUnixTimestamp(timestamp) FROM customers WHERE customer_id IN (SELECT arrayJoin({ids:Array(String)}))
