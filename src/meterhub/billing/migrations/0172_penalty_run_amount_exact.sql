-- The runs of days that penalty_lines rebuilds from penalty_walks give each run's exact amount with the
-- close's own Decimal digits, so a rebuilt row's text equals what the per-debt rows held (0171's view
-- divided in numeric's default precision). Same columns; the view's INSTEAD OF triggers stay.

-- The exact amount of one run of days, B × r × days / (100 × divisor), as the close's Decimal arithmetic
-- writes it (penalty_run._Walk: exact product, one division at 100 significant digits, half-even; an
-- exact quotient keeps the exponent of B × r × days): the text of a run rebuilt by the view is the text
-- the per-debt rows held.
CREATE FUNCTION penalty_run_amount_exact(base numeric, rate numeric, days integer, divisor integer)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN divisor = 0 THEN '0'
        WHEN scale(trim_scale(q)) < 150 THEN round(q, greatest(scale(trim_scale(q)), scale(base * rate)))::text
        ELSE round(q, 100 - (floor(log(abs(q))) + 1)::int)::text
    END
      FROM (SELECT (base * rate * days)::numeric(1000, 200) / (100 * divisor) AS q) AS x
$$;

CREATE OR REPLACE VIEW penalty_lines AS
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
                                   'amount_exact', penalty_run_amount_exact(d.principal_kopecks * 0.01,
                                       w.rate_percent, (r.run->>'days')::int, (r.run->>'divisor')::int))
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
