-- пени stored per account × service × closing period instead of per debt (issue 14, part 3;
-- docs/billing-money.md, "How penalties are stored"). penalty_lines held one row per debt × service ×
-- closing period: in a city where nobody pays, month N wrote N rows per account and service (rows, index
-- entries, foreign-key checks and the itemised runs of days all grew with the open debts). Now:
--
-- * penalty_accruals: one row per closing period × account × service; the debts of that service the
--   close stored are parallel arrays (element i of every array is one debt), amount_kopecks is their Σ;
-- * penalty_walks: the runs of days of a debt period's debts without payments, once per building,
--   closing period, debt period and due date (those debts store only their debt totals in details; the
--   view rebuilds their runs with the debt's own base);
-- * penalty_settled: the last stored state of a debt whose every service was paid off, written once when
--   it is paid off (the next close skips such a debt and needs its stored total to do so).
--
-- penalty_lines becomes a view with the columns and rows it had (one row per debt × service × closing
-- period); inserting into it appends to penalty_accruals. Existing rows are converted below.

CREATE TABLE penalty_accruals (
    building_id       text NOT NULL,
    closing_period    text NOT NULL,
    account_no        text NOT NULL,
    service           text NOT NULL,
    as_of             date NOT NULL,
    amount_kopecks    bigint NOT NULL,       -- Σ amounts_kopecks: what this closing period adds
    debt_periods      text[] NOT NULL,
    due_dates         date[] NOT NULL,
    principal_kopecks bigint[] NOT NULL,
    unpaid_kopecks    bigint[] NOT NULL,
    rate_days         date[] NOT NULL,
    rate_percents     numeric[] NOT NULL,
    days_overdue      integer[] NOT NULL,
    accrued_exact     numeric[] NOT NULL,
    accrued_kopecks   bigint[] NOT NULL,
    amounts_kopecks   bigint[] NOT NULL,
    formulas          text[] NOT NULL,
    details           jsonb NOT NULL,        -- JSON array, per debt; without "lines" the runs are in penalty_walks
    PRIMARY KEY (closing_period, account_no, service),
    FOREIGN KEY (building_id, closing_period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE,
    CHECK (cardinality(debt_periods) > 0),
    CHECK (cardinality(amounts_kopecks) = cardinality(debt_periods)
           AND jsonb_array_length(details) = cardinality(debt_periods))
);
CREATE INDEX penalty_accruals_building_idx ON penalty_accruals (building_id, closing_period);
CREATE INDEX penalty_accruals_account_idx ON penalty_accruals (account_no, closing_period);

CREATE TABLE penalty_walks (
    building_id     text NOT NULL,
    closing_period  text NOT NULL,
    debt_period     text NOT NULL,
    due_date        date NOT NULL,
    rate_percent    numeric NOT NULL,
    notes           jsonb NOT NULL,
    runs            jsonb NOT NULL,          -- [{first_day, last_day, first_k, days, divisor}]
    PRIMARY KEY (building_id, closing_period, debt_period, due_date),
    FOREIGN KEY (building_id, closing_period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);

CREATE TABLE penalty_settled (
    building_id     text NOT NULL,
    closing_period  text NOT NULL,
    account_no      text NOT NULL,
    service         text NOT NULL,
    debt_period     text NOT NULL,
    accrued_kopecks bigint NOT NULL,
    unpaid_kopecks  bigint NOT NULL,
    as_of           date NOT NULL,
    PRIMARY KEY (account_no, service, debt_period, closing_period),
    FOREIGN KEY (building_id, closing_period) REFERENCES billing_periods (building_id, period) ON DELETE CASCADE
);
CREATE INDEX penalty_settled_building_idx ON penalty_settled (building_id, closing_period);

-- the existing per-debt rows, converted (arrays in debt-period order)
INSERT INTO penalty_accruals
SELECT building_id, closing_period, account_no, service, max(as_of), sum(amount_kopecks),
       array_agg(debt_period ORDER BY debt_period), array_agg(due_date ORDER BY debt_period),
       array_agg(principal_kopecks ORDER BY debt_period), array_agg(unpaid_kopecks ORDER BY debt_period),
       array_agg(rate_day ORDER BY debt_period), array_agg(rate_percent ORDER BY debt_period),
       array_agg(days_overdue ORDER BY debt_period), array_agg(accrued_exact ORDER BY debt_period),
       array_agg(accrued_kopecks ORDER BY debt_period), array_agg(amount_kopecks ORDER BY debt_period),
       array_agg(formula ORDER BY debt_period), jsonb_agg(details ORDER BY debt_period)
  FROM penalty_lines
 GROUP BY building_id, closing_period, account_no, service;
INSERT INTO penalty_settled
SELECT building_id, closing_period, account_no, service, debt_period, accrued_kopecks, unpaid_kopecks, as_of
  FROM penalty_lines WHERE unpaid_kopecks = 0;
DROP TABLE penalty_lines;

CREATE VIEW penalty_lines AS
SELECT a.building_id, a.closing_period, a.account_no, a.service, d.debt_period, d.due_date, a.as_of,
       d.principal_kopecks, d.unpaid_kopecks, d.rate_day, d.rate_percent, d.days_overdue, d.accrued_exact,
       d.accrued_kopecks, d.amount_kopecks, d.formula,
       CASE WHEN a.details -> (d.i::int - 1) ? 'lines' THEN a.details -> (d.i::int - 1)
            ELSE a.details -> (d.i::int - 1) || (
                SELECT jsonb_build_object(
                    'notes', w.notes,
                    'lines', coalesce((
                        SELECT jsonb_agg(r.run || jsonb_build_object(
                                   'base', (d.principal_kopecks * 0.01)::text,
                                   'amount_exact', CASE WHEN (r.run->>'divisor')::int = 0 THEN '0'
                                       ELSE (d.principal_kopecks * 0.01 * w.rate_percent * (r.run->>'days')::int
                                             / (100 * (r.run->>'divisor')::int))::text END)
                                   ORDER BY r.ord)
                          FROM jsonb_array_elements(w.runs) WITH ORDINALITY AS r(run, ord)), '[]'::jsonb))
                  FROM penalty_walks w
                 WHERE w.building_id = a.building_id AND w.closing_period = a.closing_period
                   AND w.debt_period = d.debt_period AND w.due_date = d.due_date)
       END AS details
  FROM penalty_accruals a,
       unnest(a.debt_periods, a.due_dates, a.principal_kopecks, a.unpaid_kopecks, a.rate_days, a.rate_percents,
              a.days_overdue, a.accrued_exact, a.accrued_kopecks, a.amounts_kopecks, a.formulas) WITH ORDINALITY
       AS d(debt_period, due_date, principal_kopecks, unpaid_kopecks, rate_day, rate_percent, days_overdue,
            accrued_exact, accrued_kopecks, amount_kopecks, formula, i);

-- a row inserted into the view (a hand-written line, a tool of the old scheme) joins its account and
-- service's row of that closing period
CREATE FUNCTION penalty_lines_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO penalty_accruals AS p VALUES (
        NEW.building_id, NEW.closing_period, NEW.account_no, NEW.service, NEW.as_of, NEW.amount_kopecks,
        ARRAY[NEW.debt_period], ARRAY[NEW.due_date], ARRAY[NEW.principal_kopecks], ARRAY[NEW.unpaid_kopecks],
        ARRAY[NEW.rate_day], ARRAY[NEW.rate_percent], ARRAY[NEW.days_overdue], ARRAY[NEW.accrued_exact],
        ARRAY[NEW.accrued_kopecks], ARRAY[NEW.amount_kopecks], ARRAY[NEW.formula], jsonb_build_array(NEW.details))
    ON CONFLICT (closing_period, account_no, service) DO UPDATE SET
        amount_kopecks = p.amount_kopecks + EXCLUDED.amount_kopecks,
        debt_periods = p.debt_periods || EXCLUDED.debt_periods,
        due_dates = p.due_dates || EXCLUDED.due_dates,
        principal_kopecks = p.principal_kopecks || EXCLUDED.principal_kopecks,
        unpaid_kopecks = p.unpaid_kopecks || EXCLUDED.unpaid_kopecks,
        rate_days = p.rate_days || EXCLUDED.rate_days,
        rate_percents = p.rate_percents || EXCLUDED.rate_percents,
        days_overdue = p.days_overdue || EXCLUDED.days_overdue,
        accrued_exact = p.accrued_exact || EXCLUDED.accrued_exact,
        accrued_kopecks = p.accrued_kopecks || EXCLUDED.accrued_kopecks,
        amounts_kopecks = p.amounts_kopecks || EXCLUDED.amounts_kopecks,
        formulas = p.formulas || EXCLUDED.formulas,
        details = p.details || EXCLUDED.details;
    IF NEW.unpaid_kopecks = 0 THEN
        INSERT INTO penalty_settled VALUES (NEW.building_id, NEW.closing_period, NEW.account_no, NEW.service,
            NEW.debt_period, NEW.accrued_kopecks, 0, NEW.as_of) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER penalty_lines_insert INSTEAD OF INSERT ON penalty_lines
    FOR EACH ROW EXECUTE FUNCTION penalty_lines_insert();
