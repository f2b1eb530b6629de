-- customer_history_count: how many profile versions customer_history holds.
SELECT count() FROM customer_history
