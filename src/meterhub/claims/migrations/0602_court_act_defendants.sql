-- A court act (судебный приказ / решение) against several defendants of one case (co-owners of the premise):
-- what each is ordered to pay and how (docs/claims.md, «Court acts against several defendants»).
--   liability 'share'    — долевая: one debtor answers for his own amount (owners of shares, ГК РФ ст. 249,
--                          ЖК РФ ст. 158 ч. 1);
--   liability 'solidary' — солидарная: the award's debtors answer jointly for its whole amount (общая
--                          совместная собственность, ГК РФ ст. 322, 323); the amount is collected once.
CREATE TABLE claims_case_awards (
    step_id          bigint NOT NULL REFERENCES claims_case_steps (step_id) ON DELETE CASCADE,
    award_no         integer NOT NULL CHECK (award_no > 0),
    case_id          bigint NOT NULL REFERENCES claims_cases (case_id) ON DELETE CASCADE,
    liability        text NOT NULL CHECK (liability IN ('share', 'solidary')),
    amount_kopecks   bigint NOT NULL CHECK (amount_kopecks > 0),      -- debt and penalties awarded
    costs_kopecks    bigint NOT NULL DEFAULT 0 CHECK (costs_kopecks >= 0), -- court costs awarded
    PRIMARY KEY (step_id, award_no)
);
CREATE INDEX claims_case_awards_case_idx ON claims_case_awards (case_id, step_id);

CREATE TABLE claims_case_award_debtors (
    step_id    bigint NOT NULL,
    award_no   integer NOT NULL,
    case_id    bigint NOT NULL,
    debtor_no  integer NOT NULL,
    PRIMARY KEY (step_id, award_no, debtor_no),
    UNIQUE (step_id, debtor_no),                       -- a defendant is in one award of a court act
    FOREIGN KEY (step_id, award_no) REFERENCES claims_case_awards (step_id, award_no) ON DELETE CASCADE,
    FOREIGN KEY (case_id, debtor_no) REFERENCES claims_case_debtors (case_id, debtor_no) ON DELETE CASCADE
);

-- The exchange's court_decisions get a row per defendant of a court act (debtor_no 1 for an imported act
-- and for a case with one debtor), with the liability, so a ГИС ЖКХ debt answer names every defendant.
ALTER TABLE court_decisions ADD COLUMN debtor_no integer NOT NULL DEFAULT 1 CHECK (debtor_no > 0);
ALTER TABLE court_decisions ADD COLUMN liability text NOT NULL DEFAULT 'share'
    CHECK (liability IN ('share', 'solidary'));
ALTER TABLE court_decisions DROP CONSTRAINT court_decisions_account_no_case_number_key;
ALTER TABLE court_decisions ADD CONSTRAINT court_decisions_case_debtor_key
    UNIQUE (account_no, case_number, debtor_no);
