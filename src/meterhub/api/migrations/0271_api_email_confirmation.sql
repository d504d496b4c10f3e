-- E-mail addresses confirmed by a link (issue h8): an address is used for password recovery and for
-- notification letters only once its owner followed a one-time link sent to it.
--
-- api_users.email is the address in force; email_confirmed_at says whether (and since when) it is
-- confirmed. A new address waits in api_email_confirmations (only the SHA-256 of the link's token is
-- stored); changing a confirmed address keeps the old one in force until the new one is confirmed.

ALTER TABLE api_users ADD COLUMN email_confirmed_at timestamptz;

CREATE TABLE api_email_confirmations (
    token_digest text PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    email        text NOT NULL,            -- the address the link was sent to (lower case)
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz               -- followed, or spent by a newer link or a cleared address
);
CREATE INDEX api_email_confirmations_user_idx ON api_email_confirmations (user_id, created_at);

-- Who set, changed, confirmed or cleared an address, and when (staff read it: GET /admin/users/{id}/email-history).
CREATE TABLE api_email_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    username    text NOT NULL,             -- kept when the user is deleted
    action      text NOT NULL CHECK (action IN ('set', 'change_requested', 'confirmed', 'cleared',
                                                'confirmed_on_upgrade')),
    old_email   text,
    new_email   text,
    actor_id    bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    actor_name  text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_email_audit_user_idx ON api_email_audit (user_id, at DESC);

-- Existing addresses: one that has already proved it reaches its owner counts as confirmed — a
-- notification letter the mail server accepted for exactly this address, or a password-reset link that
-- was followed (its "password recovered" notice exists). Every other address stays unconfirmed: its
-- owner sees «не подтверждён» in the profile and confirms it with one click («отправить письмо ещё раз»).
WITH evidence AS (
    SELECT u.user_id, GREATEST(
        (SELECT max(x.sent_at) FROM api_email_outbox x
          WHERE x.user_id = u.user_id AND x.status = 'sent' AND lower(x.recipient) = lower(u.email)),
        (SELECT max(n.created_at) FROM api_password_resets r
           JOIN api_notifications n ON n.user_id = r.user_id AND n.kind = 'security'
                                   AND n.subject_key = 'reset:' || r.token_digest
          WHERE r.user_id = u.user_id)
    ) AS proved_at
    FROM api_users u WHERE u.email IS NOT NULL
), confirmed AS (
    UPDATE api_users u SET email_confirmed_at = e.proved_at
    FROM evidence e WHERE e.user_id = u.user_id AND e.proved_at IS NOT NULL
    RETURNING u.user_id, u.username, u.email
)
INSERT INTO api_email_audit (user_id, username, action, new_email, actor_name)
SELECT user_id, username, 'confirmed_on_upgrade', email, 'migration 0271' FROM confirmed;
