-- latest_versions: each customer's latest profile version, a deletion included (is_deleted = 1):
-- customers FINAL. In a query run as "<name>@as_of" it is latest_versions_at.sql instead.
customers FINAL
