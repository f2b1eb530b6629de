-- sql_scratch_create: a database for one Query API request (segwork.api.query): views of the data
-- sources the token may read and the pipes' results it reads; in memory, dropped after the request.
CREATE DATABASE {db:Identifier} ENGINE = Memory
