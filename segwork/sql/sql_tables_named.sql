-- sql_tables_named: which of these names are tables of a database (segwork.sqlguard: a WITH name
-- that is also a table would read that table wherever the WITH is out of scope).
SELECT name FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}
