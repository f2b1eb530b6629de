-- stored_profile_versions: the profile versions stored for these customers, as
-- (customer_id, timestamp in epoch seconds), every version ever stored (customer_history: a
-- version customers merged away is still a duplicate); its primary key finds them.
SELECT customer_id, toUnixTimestamp(timestamp) FROM customer_history WHERE customer_id IN (SELECT arrayJoin({ids:Array(String)}))
