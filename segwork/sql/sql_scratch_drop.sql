-- sql_scratch_drop: a Query API request's database, when the request is answered.
DROP DATABASE IF EXISTS {db:Identifier} SYNC
