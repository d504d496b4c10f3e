-- A cancelled court order no longer awards its court costs (docs/claims.md, «Court costs of a cancelled
-- order»): the cancellation adds a correcting line with the order's awarded costs negated, rather than
-- editing the line the order added, so the sums of claims_case_costs.awarded_kopecks (reports, the bailiffs'
-- list) count only the acts in force. A correcting line pays nothing.
ALTER TABLE claims_case_costs DROP CONSTRAINT claims_case_costs_awarded_kopecks_check;
ALTER TABLE claims_case_costs ADD CONSTRAINT claims_case_costs_awarded_kopecks_check
    CHECK (awarded_kopecks >= 0 OR paid_kopecks = 0);
