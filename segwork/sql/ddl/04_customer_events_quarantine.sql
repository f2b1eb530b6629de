-- Rows of customer_events that failed validation; same shape as customers_quarantine.
CREATE TABLE IF NOT EXISTS customer_events_quarantine (
    event_id        Nullable(String),
    customer_id     Nullable(String),
    event_type      Nullable(String),
    event_value     Nullable(String),
    product_id      Nullable(String),
    category        Nullable(String),
    timestamp       Nullable(String),
    c__error_column Array(String),
    c__error        Array(String),
    c__import_id    String,
    c__source       String,
    c__row          UInt64,
    c__raw          Nullable(String),
    c__token        String,
    insertion_date  DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (insertion_date, c__import_id, c__row)
