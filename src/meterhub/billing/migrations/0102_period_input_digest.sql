-- A digest of the engine inputs a period was computed from: a closed period whose inputs are unchanged
-- (and that has no corrections booked) needs no engine run when the close looks for recalculations.
ALTER TABLE billing_periods ADD COLUMN input_digest text;
