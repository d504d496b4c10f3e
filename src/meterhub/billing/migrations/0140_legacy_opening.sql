-- Opening balances and history from a legacy billing system (переход с другой системы расчётов):
-- `meterhub import` of cutover.csv, opening_balances.csv, legacy_payments.csv, meter_history.csv,
-- house_history.csv and legacy_totals.csv (meterhub.billing.imports.legacy, docs/migration.md).
-- Every legacy row belongs to a period before the building's first meterhub period.

-- The building's switch-over: meterhub bills it from first_period on; the legacy system billed the
-- periods before. Opening balances are the debts owed on the first day of first_period.
CREATE TABLE legacy_cutovers (
    building_id   text PRIMARY KEY REFERENCES buildings (building_id) ON DELETE CASCADE,
    first_period  text NOT NULL CHECK (first_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    system        text NOT NULL DEFAULT '',      -- the legacy system's name, e.g. 'СТАРТ КС'
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- входящее сальдо: what an account owes per service and legacy period on the first day of first_period.
-- principal (долг) accrues penalties from due_date (the legacy system's due date); penalty (пени) is the
-- legacy penalty still unpaid. An overpayment (переплата) is not a row here: it is imported as an advance
-- payment (payments.source = 'opening_balance').
CREATE TABLE opening_debts (
    account_no      text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    service         text NOT NULL REFERENCES services (service),
    period          text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    kind            text NOT NULL CHECK (kind IN ('principal', 'penalty')),
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks > 0),
    due_date        date NOT NULL,
    PRIMARY KEY (account_no, service, period, kind)
);
CREATE INDEX opening_debts_account_idx ON opening_debts (account_no, period);

-- Payments received by the legacy system (history only: opening_debts are already net of them).
CREATE TABLE legacy_payments (
    account_no      text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    paid_on         date NOT NULL,
    payment_id      text NOT NULL,               -- the legacy document number
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks <> 0),   -- negative: a reversal (сторно)
    period_named    text CHECK (period_named ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    agent           text NOT NULL DEFAULT '',    -- bank or payment agent named by the legacy system
    purpose         text NOT NULL DEFAULT '',
    imported_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_no, paid_on, payment_id)
);

-- Monthly volume of an individual meter per zone as the legacy system billed it: 'meter' months are the
-- history of averages (п. 59), a run of 'average' months ending at the cutover continues its count.
CREATE TABLE legacy_meter_volumes (
    meter_id  text NOT NULL REFERENCES meters (meter_id) ON DELETE CASCADE,
    period    text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    zone      text NOT NULL CHECK (zone IN ('single', 'day', 'night', 'peak', 'semi_peak')),
    volume    numeric NOT NULL CHECK (volume >= 0),
    method    text NOT NULL CHECK (method IN ('meter', 'average', 'normative')),
    PRIMARY KEY (meter_id, period, zone)
);

-- House-meter (ОДПУ) history per building, service and legacy period for the AVERAGE common-property
-- method: the house volume, Σ of the premises' volumes and (cold water of a building preparing its hot
-- water) V^кр; difference = house − premises − V^кр.
CREATE TABLE legacy_house_volumes (
    building_id       text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    service           text NOT NULL REFERENCES services (service),
    period            text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    house_volume      numeric NOT NULL CHECK (house_volume >= 0),
    individual_total  numeric NOT NULL CHECK (individual_total >= 0),
    preparation       numeric NOT NULL DEFAULT 0 CHECK (preparation >= 0),
    method            text NOT NULL CHECK (method IN ('actual', 'actual_capped', 'normative', 'average')),
    PRIMARY KEY (building_id, service, period)
);

-- The legacy system's own totals per building and service ('*' = all services), e.g. from its
-- оборотно-сальдовая ведомость: what the reconciliation report compares the imported rows with.
-- NULL = not checked. Money in kopecks.
CREATE TABLE legacy_totals (
    building_id        text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    service            text NOT NULL,
    debt_kopecks       bigint,
    penalties_kopecks  bigint,
    advance_kopecks    bigint,
    balance_kopecks    bigint,
    paid_kopecks       bigint,
    volume             numeric,
    house_volume       numeric,
    PRIMARY KEY (building_id, service)
);

-- Legacy individual volumes per account: each meter's volume on the premise it served (the link in force
-- in that period, else its first link) × the share of every account of the premise not closed before
-- the period. The close's averaging history reads it beside its own closed periods.
CREATE VIEW legacy_account_volumes AS
SELECT l.building_id, a.account_no, l.service, v.period, v.zone, v.method, v.volume * a.share AS volume
  FROM legacy_meter_volumes v
  CROSS JOIN LATERAL (
        SELECT ml.building_id, ml.premise_no, ml.service FROM meter_links ml
         WHERE ml.meter_id = v.meter_id AND ml.premise_no IS NOT NULL
         ORDER BY (ml.valid_from <= to_date(v.period || '-01', 'YYYY-MM-DD')
                   AND (ml.valid_to IS NULL OR ml.valid_to > to_date(v.period || '-01', 'YYYY-MM-DD'))) DESC,
                  ml.valid_from
         LIMIT 1) l
  JOIN accounts a ON a.building_id = l.building_id AND a.premise_no = l.premise_no
   AND (a.closed_on IS NULL OR a.closed_on > to_date(v.period || '-01', 'YYYY-MM-DD'));
