-- Who a token or session belongs to, and what it may see, is cached for a few seconds by each server
-- process (api/caller_cache.py). Every change that alters an authenticated caller notifies channel
-- meterhub_auth when its transaction commits, and every process empties its cache on the notification:
-- a revoked session or token, a changed expiry, a disabled or changed user, a linked or unlinked account
-- or building, an account moved to another building. The last_used_at touch does not notify.

CREATE FUNCTION api_notify_auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('meterhub_auth', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_sessions_auth_change_del AFTER DELETE OR TRUNCATE ON api_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION api_notify_auth_change();
CREATE TRIGGER api_sessions_auth_change_upd
    AFTER UPDATE OF token_digest, user_id, kind, csrf_digest, expires_at ON api_sessions
    FOR EACH STATEMENT EXECUTE FUNCTION api_notify_auth_change();
CREATE TRIGGER api_users_auth_change AFTER UPDATE OR DELETE OR TRUNCATE ON api_users
    FOR EACH STATEMENT EXECUTE FUNCTION api_notify_auth_change();
CREATE TRIGGER api_user_accounts_auth_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_user_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION api_notify_auth_change();
CREATE TRIGGER api_user_buildings_auth_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_user_buildings
    FOR EACH STATEMENT EXECUTE FUNCTION api_notify_auth_change();
CREATE TRIGGER accounts_auth_change AFTER UPDATE OF account_no, building_id OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION api_notify_auth_change();
