-- The cabinet's computed answers (consumption series, meters, building charts, tariff advice) shared by
-- the server processes (api/response_cache.py): built once, read by every process until expires_at.
-- UNLOGGED: a cache, rebuilt on demand; it is not written to the WAL and is emptied after a crash.
-- scope = the account or building the answer belongs to (a submitted reading drops its account's rows).
CREATE UNLOGGED TABLE api_answer_cache (
    cache_key   text PRIMARY KEY,          -- sha256 of the answer's key (route, scope, parameters, day)
    scope       text NOT NULL,
    body        bytea NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX api_answer_cache_scope_idx ON api_answer_cache (scope);
