-- Indexes for the money side's per-account reads (posting a payment reads one account's debts across all
-- periods; the close's tables are keyed by building and period first). Measured with
-- benchmarks/bench_payments.py: without them posting reads every charge line of the city per payment.
CREATE INDEX charge_lines_account_idx ON charge_lines (account_no, period);
CREATE INDEX recalculation_lines_account_idx ON recalculation_lines (account_no, period);
CREATE INDEX penalty_lines_account_idx ON penalty_lines (account_no, debt_period);
CREATE INDEX service_recalculation_lines_account_idx ON service_recalculation_lines (account_no, period);
