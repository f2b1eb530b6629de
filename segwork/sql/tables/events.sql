-- events: the events a query reads, all of them: customer_events. In a query run as
-- "<name>@located" it is located_events.sql instead (one location's customers).
customer_events
