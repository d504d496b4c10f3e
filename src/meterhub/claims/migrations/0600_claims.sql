-- The legal department (meterhub.claims, судебно-претензионная работа): the court district of each
-- building, the claimant, instalment agreements, pre-trial letters, cases with their dated steps and
-- documents, the debts each case covers split per debtor (owner) and the court costs, and the money
-- received under a writ. Amounts are integer kopecks. See docs/claims.md.

-- Судебный участок мирового судьи for a building's address (a table the УК imports).
CREATE TABLE claims_court_districts (
    building_id    text PRIMARY KEY REFERENCES buildings (building_id) ON DELETE CASCADE,
    court_name     text NOT NULL CHECK (court_name <> ''),
    court_address  text NOT NULL DEFAULT '',
    district       text NOT NULL DEFAULT '',
    fee_recipient  text NOT NULL DEFAULT '',   -- реквизиты для уплаты госпошлины (the treasury's)
    imported_at    timestamptz NOT NULL DEFAULT now()
);

-- The claimant (взыскатель): the management company, one row.
CREATE TABLE claims_claimant (
    claimant_id  integer PRIMARY KEY DEFAULT 1 CHECK (claimant_id = 1),
    name         text NOT NULL CHECK (name <> ''),
    inn          text NOT NULL DEFAULT '' CHECK (inn = '' OR inn ~ '^[0-9]{10}$|^[0-9]{12}$'),
    ogrn         text NOT NULL DEFAULT '' CHECK (ogrn = '' OR ogrn ~ '^[0-9]{13}$|^[0-9]{15}$'),
    address      text NOT NULL DEFAULT '',
    bank_details text NOT NULL DEFAULT '',
    signatory    text NOT NULL DEFAULT ''
);

-- Соглашение о рассрочке: an account under one is not selected as a debtor while it runs.
CREATE TABLE claims_instalments (
    agreement_id  bigserial PRIMARY KEY,
    account_no    text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    signed_on     date NOT NULL,
    ends_on       date NOT NULL,
    note          text NOT NULL DEFAULT '',
    created_by    text NOT NULL,
    CHECK (ends_on >= signed_on)
);
CREATE INDEX claims_instalments_account_idx ON claims_instalments (account_no);

-- Претензия (уведомление о задолженности) sent to a debtor: the register of sent letters.
CREATE TABLE claims_pretrial_letters (
    letter_id          bigserial PRIMARY KEY,
    account_no         text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    as_of              date NOT NULL,
    principal_kopecks  bigint NOT NULL CHECK (principal_kopecks >= 0),
    penalty_kopecks    bigint NOT NULL CHECK (penalty_kopecks >= 0),
    pay_by             date NOT NULL,
    sent_on            date,
    tracking           text NOT NULL DEFAULT '',   -- почтовый идентификатор
    created_by         text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (pay_by > as_of)
);
CREATE INDEX claims_pretrial_letters_account_idx ON claims_pretrial_letters (account_no, as_of);

-- A case (дело): one court-order application against the owners of one account, and its life after.
CREATE TABLE claims_cases (
    case_id          bigserial PRIMARY KEY,
    account_no       text NOT NULL REFERENCES accounts (account_no),
    building_id      text NOT NULL REFERENCES buildings (building_id),
    state            text NOT NULL CHECK (state IN (
                         'prepared', 'filed', 'order_issued', 'order_cancelled', 'lawsuit_filed', 'decision',
                         'writ_issued', 'enforcement', 'closed_paid', 'closed_uncollectable', 'closed_returned',
                         'closed_refused', 'closed_withdrawn')),
    as_of            date NOT NULL,                 -- the debt and penalties are computed as of this day
    period_from      text NOT NULL CHECK (period_from ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    period_to        text NOT NULL CHECK (period_to ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    court_name       text NOT NULL DEFAULT '',
    case_number      text NOT NULL DEFAULT '',
    principal_kopecks bigint NOT NULL CHECK (principal_kopecks >= 0),
    penalty_kopecks  bigint NOT NULL CHECK (penalty_kopecks >= 0),
    state_fee_kopecks bigint NOT NULL CHECK (state_fee_kopecks >= 0),
    fee_schedule     text NOT NULL,                 -- the НК РФ ст. 333.19 schedule the fee comes from
    awarded_kopecks  bigint,                        -- what the order / decision awarded (debt + penalties)
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (period_to >= period_from)
);
CREATE INDEX claims_cases_account_idx ON claims_cases (account_no);
CREATE INDEX claims_cases_state_idx ON claims_cases (state, building_id);

-- The defendants (должники) of a case: each owner for his share; a minor with his legal representative.
CREATE TABLE claims_case_debtors (
    case_id            bigint NOT NULL REFERENCES claims_cases (case_id) ON DELETE CASCADE,
    debtor_no          integer NOT NULL CHECK (debtor_no > 0),
    person_id          bigint,                      -- registry_persons when the register is kept
    full_name          text NOT NULL CHECK (full_name <> ''),
    birth_date         date,
    share_numerator    integer NOT NULL CHECK (share_numerator > 0),
    share_denominator  integer NOT NULL CHECK (share_denominator >= share_numerator),
    representative     text NOT NULL DEFAULT '',    -- законный представитель (for a minor)
    principal_kopecks  bigint NOT NULL CHECK (principal_kopecks >= 0),
    penalty_kopecks    bigint NOT NULL CHECK (penalty_kopecks >= 0),
    state_fee_kopecks  bigint NOT NULL CHECK (state_fee_kopecks >= 0),
    PRIMARY KEY (case_id, debtor_no)
);

-- What the case claims, per debtor × debt period × service × kind (principal / penalty).
CREATE TABLE claims_case_debts (
    case_id         bigint NOT NULL,
    debtor_no       integer NOT NULL,
    debt_period     text NOT NULL CHECK (debt_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    service         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('principal', 'penalty')),
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks > 0),
    PRIMARY KEY (case_id, debtor_no, debt_period, service, kind),
    FOREIGN KEY (case_id, debtor_no) REFERENCES claims_case_debtors (case_id, debtor_no) ON DELETE CASCADE
);

-- The case's timeline: every step dated, with who recorded it (append-only).
CREATE TABLE claims_case_steps (
    step_id      bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES claims_cases (case_id) ON DELETE CASCADE,
    state        text NOT NULL,
    happened_on  date NOT NULL,
    note         text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    actor        text NOT NULL CHECK (actor <> ''),
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_case_steps_case_idx ON claims_case_steps (case_id, happened_on, step_id);

-- Documents of a case (the application printed, the court's order, a writ, the bailiff's decision …).
CREATE TABLE claims_case_documents (
    document_id  bigserial PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES claims_cases (case_id) ON DELETE CASCADE,
    step_id      bigint REFERENCES claims_case_steps (step_id) ON DELETE SET NULL,
    kind         text NOT NULL,
    file_name    text NOT NULL CHECK (file_name <> ''),
    mime         text NOT NULL,
    content      bytea NOT NULL,
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_case_documents_case_idx ON claims_case_documents (case_id);

-- Court costs (судебные расходы) of a case: what the УК paid and what the court awarded against the debtors.
CREATE TABLE claims_case_costs (
    cost_id          bigserial PRIMARY KEY,
    case_id          bigint NOT NULL REFERENCES claims_cases (case_id) ON DELETE CASCADE,
    kind             text NOT NULL CHECK (kind IN ('state_fee', 'representation', 'postage', 'other')),
    paid_kopecks     bigint NOT NULL DEFAULT 0 CHECK (paid_kopecks >= 0),
    paid_on          date,
    awarded_kopecks  bigint NOT NULL DEFAULT 0 CHECK (awarded_kopecks >= 0),
    note             text NOT NULL DEFAULT '',
    actor            text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_case_costs_case_idx ON claims_case_costs (case_id);

-- Money received under a writ (court order): the part that paid the case's debts is a billing payment
-- (payment_pk, allocated to those debts only); the part that reimbursed awarded court costs stays here.
CREATE TABLE claims_writ_receipts (
    receipt_id       bigserial PRIMARY KEY,
    case_id          bigint NOT NULL REFERENCES claims_cases (case_id),
    received_on      date NOT NULL,
    amount_kopecks   bigint NOT NULL CHECK (amount_kopecks > 0),
    to_debts_kopecks bigint NOT NULL CHECK (to_debts_kopecks >= 0),
    to_costs_kopecks bigint NOT NULL CHECK (to_costs_kopecks >= 0),
    payment_pk       bigint REFERENCES payments (payment_pk),
    reference        text NOT NULL,                -- платёжное поручение ФССП / банка
    actor            text NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, reference),
    CHECK (to_debts_kopecks + to_costs_kopecks <= amount_kopecks)
);
