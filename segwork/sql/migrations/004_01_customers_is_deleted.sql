-- Add customers.is_deleted: a deleted customer is a version with is_deleted = 1 (0 for every
-- version stored so far).
ALTER TABLE customers ADD COLUMN IF NOT EXISTS is_deleted UInt8 DEFAULT 0
