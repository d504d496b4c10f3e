-- The passport office role (паспортист): the only role that sees identity documents and edits the
-- register (meterhub.registry, docs/passport-office.md). An administrator grants it.
ALTER TABLE api_users DROP CONSTRAINT IF EXISTS api_users_role_check;
ALTER TABLE api_users ADD CONSTRAINT api_users_role_check
    CHECK (role IN ('resident', 'engineer', 'accountant', 'admin', 'passport_office'));
