-- sql_functions: the engine's functions with their category and origin, so segwork.sqlguard can
-- refuse those that reach beyond the data (files, dictionaries, the network, the server).
SELECT name, categories, origin, alias_to, case_insensitive, is_aggregate
FROM system.functions
