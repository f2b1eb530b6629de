-- Add c__token to customer_events_quarantine (as to customers_quarantine).
ALTER TABLE customer_events_quarantine ADD COLUMN IF NOT EXISTS c__token String AFTER c__raw
