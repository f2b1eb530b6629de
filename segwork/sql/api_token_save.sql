-- api_token_save: a new version of one API token (creation or revocation); the newest wins.
-- The pinned parameters come as two arrays (keys, values): a Map parameter does not bind here.
INSERT INTO api_tokens (name, token_hash, scopes, fixed_params, created_at, updated_at, revoked)
SELECT {name:String}, {token_hash:String}, {scopes:Array(String)},
       mapFromArrays({fixed_keys:Array(String)}, {fixed_values:Array(String)}),
       {created_at:DateTime('UTC')}, {updated_at:DateTime64(6, 'UTC')}, {revoked:Bool}
