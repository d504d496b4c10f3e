-- Money side (meterhub.billing, issue 6): payment registries, payments, the suspense list, allocations of
-- payments to debts, penalty lines, temporary absence and service interruption/quality events with their
-- recalculation lines. Amounts are integer kopecks (bigint). See docs/billing-money.md.

-- One imported registry file (реестр платежей). A file is imported once: sha256 is unique.
CREATE TABLE payment_files (
    file_id      bigserial PRIMARY KEY,
    sha256       text NOT NULL UNIQUE CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    source       text NOT NULL,                 -- bank / payment agent, e.g. 'sber'
    file_name    text NOT NULL,
    encoding     text NOT NULL,
    delimiter    text NOT NULL,
    rows_posted  integer NOT NULL DEFAULT 0,
    rows_suspense integer NOT NULL DEFAULT 0,
    rows_duplicate integer NOT NULL DEFAULT 0,  -- payment ids already posted from an earlier file
    imported_at  timestamptz NOT NULL DEFAULT now()
);

-- A posted payment (оплата). payment_id is unique per source, so re-delivered rows are ignored.
CREATE TABLE payments (
    payment_pk            bigserial PRIMARY KEY,
    source                text NOT NULL,
    payment_id            text NOT NULL,
    file_id               bigint REFERENCES payment_files (file_id) ON DELETE SET NULL,
    line                  integer,
    account_no            text NOT NULL REFERENCES accounts (account_no),
    amount_kopecks        bigint NOT NULL CHECK (amount_kopecks > 0),
    paid_on               date NOT NULL,
    period_named          text CHECK (period_named ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    penalties_designated  boolean NOT NULL DEFAULT false,
    purpose               text NOT NULL DEFAULT '',
    posted_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, payment_id)
);
CREATE INDEX payments_account_idx ON payments (account_no, paid_on);

-- Rows that could not be posted (unknown account, bad amount, bad date ...): the reason and the raw row.
-- Resolved later by posting them to an account (payment_pk) or by writing them off (resolution text).
CREATE TABLE payment_suspense (
    suspense_id   bigserial PRIMARY KEY,
    file_id       bigint REFERENCES payment_files (file_id) ON DELETE CASCADE,
    source        text NOT NULL,
    line          integer NOT NULL,
    payment_id    text,
    account_raw   text,
    amount_raw    text,
    reason        text NOT NULL,
    raw_row       text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz,
    resolution    text,
    payment_pk    bigint REFERENCES payments (payment_pk),
    CHECK ((resolved_at IS NULL) = (resolution IS NULL))
);
CREATE INDEX payment_suspense_open_idx ON payment_suspense (created_at) WHERE resolved_at IS NULL;

-- Where a payment went: account × service × debt period × kind (principal / penalty), or the advance
-- (service 'advance', debt_period NULL). booked_period is the balance period in which the amount counts
-- as "paid" (the month of paid_on, or the first period of the building not yet closed). An advance
-- applied during a close is a negative 'advance' row plus positive principal/penalty rows, all with
-- applied_in = the period being closed (a draft re-run deletes and redoes them).
CREATE TABLE payment_allocations (
    allocation_id   bigserial PRIMARY KEY,
    payment_pk      bigint NOT NULL REFERENCES payments (payment_pk) ON DELETE CASCADE,
    account_no      text NOT NULL,
    booked_period   text NOT NULL CHECK (booked_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    paid_on         date NOT NULL,
    debt_period     text CHECK (debt_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    service         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('principal', 'penalty', 'advance')),
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks <> 0),
    rule            text NOT NULL,
    applied_in      text,
    CHECK ((kind = 'advance') = (debt_period IS NULL)),
    CHECK (kind = 'advance' OR amount_kopecks > 0)
);
CREATE INDEX payment_allocations_account_idx ON payment_allocations (account_no, booked_period);
CREATE INDEX payment_allocations_payment_idx ON payment_allocations (payment_pk);

-- пени: the penalty of one debt (account × service × debt period) accrued up to the end of the closing
-- period. accrued_kopecks is the running total (rounded once, Decision 2); amount_kopecks is what this
-- closing period adds (accrued minus the previous closing period's accrued; may be negative when a
-- retroactive rate changes). The receipt shows amount_kopecks summed as the separate penalty line.
CREATE TABLE penalty_lines (
    building_id       text NOT NULL,
    closing_period    text NOT NULL,
    account_no        text NOT NULL,
    service           text NOT NULL,
    debt_period       text NOT NULL,
    due_date          date NOT NULL,
    as_of             date NOT NULL,
    principal_kopecks bigint NOT NULL,
    unpaid_kopecks    bigint NOT NULL,     -- principal still unpaid on as_of
    rate_day          date NOT NULL,
    rate_percent      numeric NOT NULL,
    days_overdue      integer NOT NULL,
    accrued_exact     numeric NOT NULL,
    accrued_kopecks   bigint NOT NULL,
    amount_kopecks    bigint NOT NULL,
    formula           text NOT NULL,
    details           jsonb NOT NULL,      -- the itemised runs of days (base, divisor, days, amount)
    PRIMARY KEY (closing_period, account_no, service, debt_period),
    FOREIGN KEY (building_id, closing_period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE,
    CHECK (debt_period < closing_period)
);
CREATE INDEX penalty_lines_building_idx ON penalty_lines (building_id, closing_period);

-- Temporary absence (временное отсутствие, ПП 354 пп. 86–97) of `persons` residents of an account:
-- left on departed_on, came back on returned_on; both days are excluded from the full days (п. 90).
CREATE TABLE absence_periods (
    absence_id   bigserial PRIMARY KEY,
    account_no   text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    departed_on  date NOT NULL,
    returned_on  date NOT NULL,
    persons      integer NOT NULL DEFAULT 1 CHECK (persons > 0),
    document     text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_no, departed_on, returned_on),
    CHECK (returned_on > departed_on)
);

-- Permitted interruption per service (ПП 354 Приложение 1): hours in total per billing period and at once.
-- Data, edited by a reviewed migration or directly by the operator.
CREATE TABLE service_quality_limits (
    service            text PRIMARY KEY REFERENCES services (service),
    monthly_hours      numeric NOT NULL CHECK (monthly_hours >= 0),
    single_hours       numeric CHECK (single_hours >= 0),
    percent_per_hour   numeric NOT NULL CHECK (percent_per_hour >= 0),
    source             text NOT NULL
);
INSERT INTO service_quality_limits (service, monthly_hours, single_hours, percent_per_hour, source) VALUES
    ('cold_water',  8,  4,  0.15, 'ПП 354 Приложение 1 п. 1 [V]'),
    ('hot_water',   8,  4,  0.15, 'ПП 354 Приложение 1 п. 4 [M]'),
    ('wastewater',  8,  4,  0.15, 'ПП 354 Приложение 1 п. 8 [M]'),
    ('electricity', 2,  NULL, 0.15, 'ПП 354 Приложение 1 п. 9 [M]: two independent sources; 24 h with one source'),
    ('heat',        24, 16, 0.15, 'ПП 354 Приложение 1 п. 15 [M]: 16 h at once at +12…+18 °C');

-- An interruption (перерыв) or poor-quality supply (ненадлежащее качество) of a service for a whole
-- building (premise_no NULL) or one premise, [started_at, ended_at).
CREATE TABLE service_events (
    event_id     bigserial PRIMARY KEY,
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    premise_no   text,
    service      text NOT NULL REFERENCES services (service),
    kind         text NOT NULL CHECK (kind IN ('interruption', 'poor_quality')),
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE,
    UNIQUE NULLS NOT DISTINCT (building_id, premise_no, service, kind, started_at),
    CHECK (ended_at > started_at)
);
CREATE INDEX service_events_building_idx ON service_events (building_id, service, started_at);

-- перерасчёт of the open period itself for absence or interruption/quality (negative = уменьшение).
-- Replaced on each draft close of the period; the close writes them after the charge lines.
CREATE TABLE service_recalculation_lines (
    building_id     text NOT NULL,
    period          text NOT NULL,
    account_no      text NOT NULL,
    service         text NOT NULL,
    reason_kind     text NOT NULL CHECK (reason_kind IN ('absence', 'interruption', 'poor_quality')),
    basis_kopecks   bigint NOT NULL,    -- the charge the reduction is computed from
    quantity        numeric NOT NULL,   -- absent person-days, or hours over the limit
    amount_exact    numeric NOT NULL,
    amount_kopecks  bigint NOT NULL,
    reason          text NOT NULL,      -- Russian, shown on the receipt (раздел 5)
    formula         text NOT NULL,
    PRIMARY KEY (building_id, period, account_no, service, reason_kind),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);
