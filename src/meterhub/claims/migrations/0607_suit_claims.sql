-- A lawsuit after a refused or cancelled court order claims for another price (docs/claims.md, «A lawsuit after
-- the order»): the debt of the case's lines still owed on the day the suit is filed and the penalties on them
-- accrued to that day, split among the case's debtors by their shares as the application's lines were. Kept per
-- lawsuit step (the suit's own lines; the application's claims_case_debts stay as they were claimed).
CREATE TABLE claims_suit_debts (
    step_id         bigint NOT NULL REFERENCES claims_case_steps (step_id) ON DELETE CASCADE,
    case_id         bigint NOT NULL,
    debtor_no       integer NOT NULL,
    debt_period     text NOT NULL CHECK (debt_period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    service         text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('principal', 'penalty')),
    amount_kopecks  bigint NOT NULL CHECK (amount_kopecks > 0),
    PRIMARY KEY (step_id, debtor_no, debt_period, service, kind),
    FOREIGN KEY (case_id, debtor_no) REFERENCES claims_case_debtors (case_id, debtor_no) ON DELETE CASCADE
);
CREATE INDEX claims_suit_debts_case_idx ON claims_suit_debts (case_id, step_id);
