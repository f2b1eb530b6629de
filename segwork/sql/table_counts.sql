-- table_counts: rows in each table (customers counted once per customer) and in the quarantines.
SELECT
    (SELECT count() FROM segwork_profiles) AS customers,
    (SELECT count() FROM customer_events) AS customer_events,
    (SELECT count() FROM customers_quarantine) AS customers_quarantine,
    (SELECT count() FROM customer_events_quarantine) AS customer_events_quarantine
