-- Benefits and social protection (meterhub.billing.benefits, docs/benefits.md): categories as data,
-- assignments to persons (the passport office register's person when kept, else per account) with
-- validity dates, the computed benefit lines of each period, subsidy recipients. Amounts in kopecks.

-- A benefit category (категория льготы): share of the base (0 < share ≤ 1) or a fixed monthly amount per
-- beneficiary, on the listed services, computed on a base: the charge, the charge within the social norm of
-- area per person, or within the normative volume; for the beneficiary alone or his whole household.
-- regime: 'discount' (a line in the receipt's «льготы, субсидии» column, lowering what is owed) or
-- 'compensation' (no discount; exported to social protection for cash compensation, ЕДК).
CREATE TABLE benefit_categories (
    category               text NOT NULL,
    valid_from             date NOT NULL,
    name                   text NOT NULL,
    legal_basis            text NOT NULL DEFAULT '',
    share                  numeric(7, 6) CHECK (share > 0 AND share <= 1),
    amount_kopecks         bigint CHECK (amount_kopecks > 0),
    services               text[] NOT NULL,
    base                   text NOT NULL CHECK (base IN ('charge', 'social_norm_area', 'normative_volume')),
    social_norm_m2         numeric(10, 4) CHECK (social_norm_m2 > 0),   -- m² per person
    persons_covered        text NOT NULL DEFAULT 'beneficiary' CHECK (persons_covered IN ('beneficiary', 'household')),
    regime                 text NOT NULL DEFAULT 'discount' CHECK (regime IN ('discount', 'compensation')),
    PRIMARY KEY (category, valid_from),
    CHECK ((share IS NULL) <> (amount_kopecks IS NULL)),
    CHECK (base <> 'social_norm_area' OR social_norm_m2 IS NOT NULL)
);

-- A person's benefit from valid_from to valid_to (exclusive; NULL = open).
CREATE TABLE benefit_assignments (
    assignment_id  bigserial PRIMARY KEY,
    account_no     text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    person_id      bigint,        -- registry_persons.person_id when the passport office register is kept
    person_name    text NOT NULL,
    snils          text NOT NULL DEFAULT '',
    category       text NOT NULL,
    valid_from     date NOT NULL,
    valid_to       date,
    document       text NOT NULL DEFAULT '',
    UNIQUE (account_no, person_name, category, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);

-- Computed benefit of one assignment, service and period (both regimes; discount ones also appear as
-- service_recalculation_lines with reason_kind 'benefit', so the ledger and the receipt see them).
CREATE TABLE benefit_lines (
    building_id     text NOT NULL,
    period          text NOT NULL,
    account_no      text NOT NULL,
    assignment_id   bigint NOT NULL REFERENCES benefit_assignments (assignment_id) ON DELETE CASCADE,
    service         text NOT NULL,
    category        text NOT NULL,
    regime          text NOT NULL CHECK (regime IN ('discount', 'compensation')),
    charge_kopecks  bigint NOT NULL,
    amount_exact    numeric NOT NULL,
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks >= 0),
    formula         text NOT NULL,
    PRIMARY KEY (period, assignment_id, service),
    FOREIGN KEY (building_id, period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

ALTER TABLE service_recalculation_lines DROP CONSTRAINT service_recalculation_lines_reason_kind_check;
ALTER TABLE service_recalculation_lines ADD CONSTRAINT service_recalculation_lines_reason_kind_check
    CHECK (reason_kind IN ('absence', 'interruption', 'poor_quality', 'benefit'));

-- Persons with a housing subsidy decision (решение о субсидии): their accounts are flagged.
CREATE TABLE subsidy_recipients (
    account_no   text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    person_name  text NOT NULL,
    decision_no  text NOT NULL,
    valid_from   date NOT NULL,
    valid_to     date,
    PRIMARY KEY (account_no, decision_no),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
