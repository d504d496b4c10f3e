-- E-mail intake and outgoing notifications of the service desk.

-- Every message taken from the inbound mailbox (IMAP), once per Message-ID: what it became — a request,
-- or kept for the operator with the reason (no account recognised, unreadable) — never lost.
CREATE TABLE sd_inbound_mail (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   text NOT NULL UNIQUE,
    sender       text NOT NULL,
    subject      text NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL DEFAULT now(),
    request_id   bigint REFERENCES api_requests (request_id) ON DELETE SET NULL,
    problem      text NOT NULL DEFAULT '',       -- empty when it became a request
    raw          bytea NOT NULL                   -- the original message (RFC 5322)
);
CREATE INDEX sd_inbound_mail_problem_idx ON sd_inbound_mail (received_at) WHERE request_id IS NULL;

-- The notification outbox: e-mail (SMTP) and SMS (an SMS gateway's webhook), sent by
-- `meterhub servicedesk notify`; failures are retried and keep their last error.
CREATE TABLE sd_notifications (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel      text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient    text NOT NULL,
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL,
    request_id   bigint REFERENCES api_requests (request_id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT ''
);
CREATE INDEX sd_notifications_pending_idx ON sd_notifications (id) WHERE sent_at IS NULL;
