-- legacy_account_volumes (0140) chose each legacy volume's meter link in a LATERAL subquery with LIMIT,
-- so a query of one building (the close's averaging history) could not start from that building's links
-- and read every legacy volume of the city. The same rows, as joins the planner can drive from
-- meter_links (building_id) and legacy_meter_volumes' key (meter_id): a volume goes to the link in force
-- on the first day of its period, else (no link in force then) to the meter's first apartment link.
CREATE OR REPLACE VIEW legacy_account_volumes AS
SELECT ml.building_id, a.account_no, ml.service, v.period, v.zone, v.method, v.volume * a.share AS volume
  FROM meter_links ml
  JOIN legacy_meter_volumes v ON v.meter_id = ml.meter_id
  JOIN accounts a ON a.building_id = ml.building_id AND a.premise_no = ml.premise_no
   AND (a.closed_on IS NULL OR a.closed_on > to_date(v.period || '-01', 'YYYY-MM-DD'))
 WHERE ml.premise_no IS NOT NULL
   AND CASE
         WHEN EXISTS (
              SELECT 1 FROM meter_links x
               WHERE x.meter_id = v.meter_id AND x.premise_no IS NOT NULL
                 AND x.valid_from <= to_date(v.period || '-01', 'YYYY-MM-DD')
                 AND (x.valid_to IS NULL OR x.valid_to > to_date(v.period || '-01', 'YYYY-MM-DD')))
         THEN ml.valid_from <= to_date(v.period || '-01', 'YYYY-MM-DD')
              AND (ml.valid_to IS NULL OR ml.valid_to > to_date(v.period || '-01', 'YYYY-MM-DD'))
         ELSE ml.valid_from = (SELECT min(y.valid_from) FROM meter_links y
                                WHERE y.meter_id = v.meter_id AND y.premise_no IS NOT NULL)
       END;
