-- sql_parse: the engine's own parse of a Query API client's SQL (segwork.sqlguard), as JSON: one
-- statement or a syntax error; the text arrives as a parameter, so it is never run here.
SELECT parseQueryToJSON({q:String})
