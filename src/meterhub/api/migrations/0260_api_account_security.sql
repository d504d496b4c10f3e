-- Accounts and sessions hardening (issue 17): ids for sessions and tokens (the self-service list),
-- the login limiter's per-client key, link codes that expire and rotate, staff revocation of links,
-- e-mail for password recovery, one-time password-reset tokens and residents' notifications.

ALTER TABLE api_sessions ADD COLUMN session_id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE api_sessions ADD CONSTRAINT api_sessions_session_id_key UNIQUE (session_id);

-- Failed attempts are counted per subject (username or user id), per client and per (subject, client).
-- client_key is the device cookie's id when the browser sent a valid one, else the client address.
ALTER TABLE api_auth_failures DROP CONSTRAINT api_auth_failures_kind_check;
ALTER TABLE api_auth_failures ADD CONSTRAINT api_auth_failures_kind_check
    CHECK (kind IN ('login', 'link_code', 'password_reset', 'password_change'));
ALTER TABLE api_auth_failures ADD COLUMN client_key text NOT NULL DEFAULT '';
CREATE INDEX api_auth_failures_pair_idx ON api_auth_failures (kind, subject, client_key, at);

-- A link code belongs to the receipt of one period; a redemption kills that code and every older one.
ALTER TABLE api_link_code_redemptions ADD COLUMN period text;

-- Staff revoked the codes of an account up to a period (inclusive): older receipts' codes are dead.
CREATE TABLE api_link_code_revocations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_no   text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    up_to_period text NOT NULL CHECK (up_to_period ~ '^\d{4}-\d{2}$'),
    revoked_by   bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    revoked_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_link_code_revocations_account_idx ON api_link_code_revocations (account_no);

ALTER TABLE api_users ADD COLUMN email text CHECK (email IS NULL OR email ~ '^[^@\s]+@[^@\s]+$');
CREATE UNIQUE INDEX api_users_email_key ON api_users (lower(email)) WHERE email IS NOT NULL;

-- One-time password-reset links sent by e-mail; only the SHA-256 digest of the token is kept.
CREATE TABLE api_password_resets (
    token_digest text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX api_password_resets_user_idx ON api_password_resets (user_id);

-- What the cabinet tells a user: a new receipt, an answer to a request, a new user on their account.
CREATE TABLE api_notifications (
    notification_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('receipt', 'request_answer', 'account_linked', 'security')),
    account_no   text,
    subject_key  text NOT NULL DEFAULT '',   -- e.g. the period or request id, so one event notifies once
    text_ru      text NOT NULL,
    link         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    read_at      timestamptz,
    UNIQUE (user_id, kind, subject_key)
);
CREATE INDEX api_notifications_user_idx ON api_notifications (user_id, created_at DESC);
