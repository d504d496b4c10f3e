-- The joint ownership (registry_owners.joint_group) a defendant held his share in: the debtors of one group are
-- proposed for a solidary award when the court act is entered (docs/claims.md).
ALTER TABLE claims_case_debtors ADD COLUMN joint_group integer CHECK (joint_group > 0);
