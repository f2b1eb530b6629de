-- sql_unparse: the engine's SQL text for a parsed query (segwork.sqlguard), without the client's
-- comments and FORMAT clause: what segwork explains and runs is what the engine parsed.
SELECT formatQueryFromJSON({ast:String})
