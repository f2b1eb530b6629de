-- Rows of customers that failed validation: original values as text plus why, as the
-- seed's `<name>_quarantine` tables (c__error_column, c__error, c__import_id, insertion_date).
-- c__token recognises a bad record that arrives again (a hash of its values and of how many
-- identical records came before it in the same input), so a re-ingest does not quarantine it twice.
CREATE TABLE IF NOT EXISTS customers_quarantine (
    customer_id     Nullable(String),
    name            Nullable(String),
    email           Nullable(String),
    age             Nullable(String),
    gender          Nullable(String),
    location        Nullable(String),
    signup_date     Nullable(String),
    lifetime_value  Nullable(String),
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
