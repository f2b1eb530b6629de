-- Add c__token to customers_quarantine (it recognises a bad record that is sent again).
-- Rows quarantined before get '': a re-sent copy of one of them is quarantined once more.
ALTER TABLE customers_quarantine ADD COLUMN IF NOT EXISTS c__token String AFTER c__raw
