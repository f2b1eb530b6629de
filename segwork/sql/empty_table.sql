-- empty_table: remove every row of one of segwork's tables (segwork.reset names it from a fixed
-- list). TRUNCATE also forgets the engine's own record of inserted blocks, so the same rows
-- inserted again go in again.
TRUNCATE TABLE {table:Identifier}
