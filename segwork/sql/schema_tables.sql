-- schema_tables: the tables of one database (none when it does not exist). connect() asks
-- this every time rather than remembering a database as ready: a database can disappear
-- under a process (an in-memory engine ends with its last client; DROP DATABASE elsewhere).
SELECT name FROM system.tables WHERE database = {database:String}
