-- locations_present: known customer locations, with how many customers each.
SELECT location, count() AS customers FROM segwork_profiles WHERE location != '' GROUP BY location ORDER BY location
