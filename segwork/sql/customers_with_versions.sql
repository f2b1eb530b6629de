-- customers_with_versions: which of these customers have a stored profile version at or before `at`.
SELECT DISTINCT customer_id FROM customer_history
WHERE customer_id IN (SELECT arrayJoin({ids:Array(String)})) AND timestamp <= {at:DateTime('UTC')}
