-- located_events: the events of the customers whose profile is in {location} (the profile at
-- as_of in a query run as "<name>@as_of+located"). The location's customers are a set built
-- before the query runs; the query's own conditions (time, types) still prune by the key.
SELECT *
FROM customer_events
WHERE customer_id IN (SELECT customer_id FROM segwork_profiles WHERE location = {location:String})
