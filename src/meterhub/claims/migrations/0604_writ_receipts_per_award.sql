-- Money under a court act is received from one defendant and counts against his award (docs/claims.md,
-- «Money under a writ or a court order»): the debtor the money came from (NULL when the act has one award
-- and nobody was named, or for receipts recorded before this migration) and the award of the court-act
-- step it was received under (NULL for an act recorded without awards per defendant).
ALTER TABLE claims_writ_receipts ADD COLUMN debtor_no integer CHECK (debtor_no > 0);
ALTER TABLE claims_writ_receipts ADD COLUMN award_step_id bigint;
ALTER TABLE claims_writ_receipts ADD COLUMN award_no integer;
ALTER TABLE claims_writ_receipts ADD CONSTRAINT claims_writ_receipts_award_fkey
    FOREIGN KEY (award_step_id, award_no) REFERENCES claims_case_awards (step_id, award_no);
ALTER TABLE claims_writ_receipts ADD CONSTRAINT claims_writ_receipts_debtor_fkey
    FOREIGN KEY (case_id, debtor_no) REFERENCES claims_case_debtors (case_id, debtor_no);
ALTER TABLE claims_writ_receipts ADD CONSTRAINT claims_writ_receipts_award_both
    CHECK ((award_step_id IS NULL) = (award_no IS NULL));
CREATE INDEX claims_writ_receipts_award_idx ON claims_writ_receipts (award_step_id, award_no);
