-- API users, roles, their buildings and linked accounts, sessions and bearer tokens, login attempts
-- (meterhub.api). Secrets are never stored: passwords as argon2 hashes, tokens as SHA-256 digests.

CREATE TABLE api_users (
    user_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('resident', 'engineer', 'accountant', 'admin')),
    full_name      text NOT NULL DEFAULT '',
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (username)
);

-- Buildings assigned to a staff user (an engineer sees telemetry of these only).
CREATE TABLE api_user_buildings (
    user_id      bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, building_id)
);

-- Accounts (лицевые счета) linked to a resident: by the code on the receipt or by an administrator.
CREATE TABLE api_user_accounts (
    user_id     bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    account_no  text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    linked_at   timestamptz NOT NULL DEFAULT now(),
    linked_by   text NOT NULL CHECK (linked_by IN ('receipt_code', 'admin')),
    PRIMARY KEY (user_id, account_no)
);
CREATE INDEX api_user_accounts_account_idx ON api_user_accounts (account_no);

-- A receipt's link code can be redeemed once: the digest of each redeemed code.
CREATE TABLE api_link_code_redemptions (
    account_no   text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    code_digest  text NOT NULL,
    user_id      bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    redeemed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_no, code_digest)
);

-- Cabinet sessions (cookie) and bearer tokens (scripts). token_digest = sha256(token) hex.
CREATE TABLE api_sessions (
    token_digest  text PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('session', 'bearer')),
    csrf_digest   text,                          -- sessions only: sha256 of the CSRF token
    name          text NOT NULL DEFAULT '',      -- bearer tokens: what the script is
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL DEFAULT now(),
    client_ip     text,
    CHECK ((kind = 'session') = (csrf_digest IS NOT NULL))
);
CREATE INDEX api_sessions_user_idx ON api_sessions (user_id);
CREATE INDEX api_sessions_expires_idx ON api_sessions (expires_at);

-- Failed logins and failed link-code attempts, for rate limiting; rows older than a day are pruned.
CREATE TABLE api_auth_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('login', 'link_code')),
    subject     text NOT NULL,                   -- username tried (login) or user id (link_code)
    client_ip   text NOT NULL
);
CREATE INDEX api_auth_failures_subject_idx ON api_auth_failures (kind, subject, at);
CREATE INDEX api_auth_failures_ip_idx ON api_auth_failures (kind, client_ip, at);
