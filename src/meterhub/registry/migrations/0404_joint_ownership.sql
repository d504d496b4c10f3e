-- Общая совместная собственность (joint ownership without shares, e.g. spouses' common property: ГК РФ ст. 253,
-- СК РФ ст. 34): the owners holding one joint ownership carry the same joint_group number within the premise.
-- Each row keeps an equal part of the jointly held share (the presumption of equal shares, СК РФ ст. 39), so the
-- shares of a premise still add up to at most the whole and receipts and exports read them as before; the claims
-- stage reads joint_group to propose that the court hold them liable solidarily (ГК РФ ст. 322).
ALTER TABLE registry_owners ADD COLUMN joint_group integer CHECK (joint_group > 0);
