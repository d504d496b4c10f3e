-- Outgoing correspondence (исходящая корреспонденция): answers to residents registered with a number that
-- restarts every year (ИСХ-2026-00001) and the date, printable, shown in the resident's cabinet.
CREATE TABLE sd_letters (
    letter_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year          smallint NOT NULL,
    seq           integer NOT NULL CHECK (seq > 0),
    letter_no     text NOT NULL UNIQUE,
    registered_on date NOT NULL,
    request_id    bigint REFERENCES api_requests (request_id) ON DELETE SET NULL,
    account_no    text REFERENCES accounts (account_no) ON DELETE SET NULL,
    addressee     text NOT NULL,
    address       text NOT NULL DEFAULT '',
    subject       text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    signed_by     text NOT NULL DEFAULT '',
    created_by    bigint REFERENCES api_users (user_id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, seq)
);
CREATE INDEX sd_letters_account_idx ON sd_letters (account_no, registered_on DESC);
