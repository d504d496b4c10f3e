-- Receipts (ЕПД, meterhub.billing.receipts): the provider (исполнитель) and payee (получатель платежа) with
-- the bank requisites printed in sections 1–2 and encoded in the payment QR code, and the register of the
-- receipt batches generated (which account's receipt of which period went into which file and page).

-- applies_to: '*' = every building (one management company), or a building_id whose own row replaces '*'.
-- The checks are the ГОСТ Р 56042-2014 / Bank of Russia formats (billing-rules.md §5.3).
CREATE TABLE receipt_payees (
    applies_to             text PRIMARY KEY,
    name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 160),       -- исполнитель
    payee_name             text CHECK (length(payee_name) BETWEEN 1 AND 160),          -- NULL: = name
    inn                    text CHECK (inn ~ '^[0-9]{10}([0-9]{2})?$'),
    kpp                    text CHECK (kpp ~ '^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$'),
    address                text NOT NULL DEFAULT '',
    phone                  text NOT NULL DEFAULT '',
    email                  text NOT NULL DEFAULT '',
    website                text NOT NULL DEFAULT '',
    bank_name              text NOT NULL CHECK (length(bank_name) BETWEEN 1 AND 45),
    bic                    text NOT NULL CHECK (bic ~ '^[0-9]{9}$'),
    settlement_account     text NOT NULL CHECK (settlement_account ~ '^[1-9][0-9]{4}[0-9ABCEHKMPTX][0-9]{14}$'),
    correspondent_account  text NOT NULL
                           CHECK (correspondent_account ~ '^(0|[1-9][0-9]{4}[0-9ABCEHKMPTX][0-9]{14})$'),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- One generation run (`meterhub receipts --period …`, or a receipts job of the API).
CREATE TABLE receipt_batches (
    batch_id       bigserial PRIMARY KEY,
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    building_id    text,                     -- NULL: every building of the period
    account_no     text,                     -- one account only
    status         text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    receipts       integer NOT NULL DEFAULT 0,
    to_pay_kopecks bigint NOT NULL DEFAULT 0,
    output         text NOT NULL DEFAULT '',  -- where the files were written
    error          text
);

-- Every receipt of a batch: the document id printed on it and where it is (file inside the ZIP, page).
CREATE TABLE receipt_register (
    batch_id         bigint NOT NULL REFERENCES receipt_batches (batch_id) ON DELETE CASCADE,
    account_no       text NOT NULL,
    period           text NOT NULL,
    building_id      text NOT NULL,
    document_id      text NOT NULL,
    charged_kopecks  bigint NOT NULL,
    to_pay_kopecks   bigint NOT NULL,
    file_name        text NOT NULL,
    page             integer NOT NULL CHECK (page > 0),
    PRIMARY KEY (batch_id, account_no)
);
CREATE INDEX receipt_register_account_idx ON receipt_register (account_no, period);
