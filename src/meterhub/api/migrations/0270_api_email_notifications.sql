-- Notifications by e-mail (issue 17): each user's consent per kind of notice, an outbox of letters
-- drained by `meterhub notify send`, and the audit of account links (who linked or unlinked whom).

-- A user's consent to get a kind of cabinet notification by e-mail too (to api_users.email). No row: no
-- e-mail. Announcements have their own consent (sd_announcement_optins) and are not listed here.
CREATE TABLE api_email_optins (
    user_id    bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('receipt', 'request_answer', 'account_linked', 'security')),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind)
);

-- One letter per notification (written in the notification's transaction, so a notice is never lost);
-- a sender claims due rows with SELECT … FOR UPDATE SKIP LOCKED and marks them sent in the same
-- transaction, so two senders never send one letter twice.
CREATE TABLE api_email_outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id  bigint UNIQUE REFERENCES api_notifications (notification_id) ON DELETE SET NULL,
    user_id          bigint NOT NULL REFERENCES api_users (user_id) ON DELETE CASCADE,
    kind             text NOT NULL,
    recipient        text NOT NULL,           -- the address at queueing; the sender uses the current one
    subject          text NOT NULL,
    body             text NOT NULL,           -- the notice's text; greeting, link and footer added on sending
    link             text NOT NULL DEFAULT '', -- the cabinet path, made absolute with METERHUB_PUBLIC_URL
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX api_email_outbox_due_idx ON api_email_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX api_email_outbox_user_idx ON api_email_outbox (user_id);

-- Who linked a user to an account or unlinked one, and why (staff revocations give a reason).
CREATE TABLE api_link_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_no  text NOT NULL,
    user_id     bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    username    text NOT NULL DEFAULT '',  -- kept when the user is deleted
    action      text NOT NULL CHECK (action IN ('linked_by_code', 'linked_by_staff', 'unlinked', 'codes_revoked')),
    actor_id    bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    actor_name  text NOT NULL,
    actor_role  text NOT NULL DEFAULT '',
    reason      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_link_audit_account_idx ON api_link_audit (account_no, at DESC);
