-- Поворот исполнения (ГПК РФ ст. 443–445; a court order: ст. 443, 444 and ст. 129): money collected under a
-- court order that is later cancelled is returned to the debtor by the court's ruling (определение о повороте
-- исполнения). The ruling (its day, number, the debtor it returns to, the amount) and where the returned money
-- came from: the debts it had paid (reopened by a negative writ payment in billing, rule 'writ:reversal') and
-- the court costs it had reimbursed. claims_reversal_lines keeps each part against the receipt it came from,
-- so a later ruling returns only what is still in place (docs/claims.md, «Reversal of execution»).
CREATE TABLE claims_execution_reversals (
    reversal_id          bigserial PRIMARY KEY,
    case_id              bigint NOT NULL REFERENCES claims_cases (case_id) ON DELETE CASCADE,
    debtor_no            integer NOT NULL,
    ruled_on             date NOT NULL,
    ruling_number        text NOT NULL DEFAULT '',
    court_name           text NOT NULL DEFAULT '',
    returned_on          date NOT NULL,
    amount_kopecks       bigint NOT NULL CHECK (amount_kopecks > 0),
    from_debts_kopecks   bigint NOT NULL CHECK (from_debts_kopecks >= 0),
    from_costs_kopecks   bigint NOT NULL CHECK (from_costs_kopecks >= 0),
    payment_pk           bigint REFERENCES payments (payment_pk),
    note                 text NOT NULL DEFAULT '',
    actor                text NOT NULL CHECK (actor <> ''),
    recorded_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (from_debts_kopecks + from_costs_kopecks = amount_kopecks),
    CHECK (returned_on >= ruled_on),
    FOREIGN KEY (case_id, debtor_no) REFERENCES claims_case_debtors (case_id, debtor_no) ON DELETE CASCADE
);
CREATE INDEX claims_execution_reversals_case_idx ON claims_execution_reversals (case_id);

CREATE TABLE claims_reversal_lines (
    reversal_id     bigint NOT NULL REFERENCES claims_execution_reversals (reversal_id) ON DELETE CASCADE,
    receipt_id      bigint NOT NULL REFERENCES claims_writ_receipts (receipt_id) ON DELETE CASCADE,
    part            text NOT NULL CHECK (part IN ('principal', 'penalty', 'costs')),
    debt_period     text CHECK (debt_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    service         text NOT NULL DEFAULT '',
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks > 0),
    CHECK ((part = 'costs') = (debt_period IS NULL))
);
CREATE INDEX claims_reversal_lines_receipt_idx ON claims_reversal_lines (receipt_id);

-- The returned money is a negative writ payment: billing's payments allow a negative amount for it only, and
-- its allocation lines are the negated debt lines (rule 'writ:reversal'), which the ledger and
-- outstanding_by_debt sum like any other line — the debts it had paid are owed again.
ALTER TABLE payments DROP CONSTRAINT payments_amount_kopecks_check;
ALTER TABLE payments ADD CONSTRAINT payments_amount_kopecks_check
    CHECK (amount_kopecks > 0 OR (source = 'writ' AND amount_kopecks < 0));
ALTER TABLE payment_allocations DROP CONSTRAINT payment_allocations_check1;
ALTER TABLE payment_allocations ADD CONSTRAINT payment_allocations_check1
    CHECK (kind = 'advance' OR amount_kopecks > 0 OR (rule = 'writ:reversal' AND amount_kopecks < 0));
