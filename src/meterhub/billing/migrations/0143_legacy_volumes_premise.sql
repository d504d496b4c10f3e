-- Each legacy meter volume stores the premise and service of the meter link it belongs to (the link in
-- force on the first day of its period, else the meter's first apartment link), chosen once at import:
-- legacy_account_volumes then joins the volumes of one building straight to its accounts, with no per-row
-- search of the meter's links while the close reads its averaging history.
ALTER TABLE legacy_meter_volumes ADD COLUMN premise_no text, ADD COLUMN service text REFERENCES services (service);
UPDATE legacy_meter_volumes v SET building_id = l.building_id, premise_no = l.premise_no, service = l.service
  FROM legacy_meter_volumes v2
  CROSS JOIN LATERAL (
        SELECT ml.building_id, ml.premise_no, ml.service FROM meter_links ml
         WHERE ml.meter_id = v2.meter_id AND ml.premise_no IS NOT NULL
         ORDER BY (ml.valid_from <= to_date(v2.period || '-01', 'YYYY-MM-DD')
                   AND (ml.valid_to IS NULL OR ml.valid_to > to_date(v2.period || '-01', 'YYYY-MM-DD'))) DESC,
                  ml.valid_from
         LIMIT 1) l
 WHERE (v2.meter_id, v2.period, v2.zone) = (v.meter_id, v.period, v.zone);

CREATE OR REPLACE VIEW legacy_account_volumes AS
SELECT v.building_id, a.account_no, v.service, v.period, v.zone, v.method, v.volume * a.share AS volume
  FROM legacy_meter_volumes v
  JOIN accounts a ON a.building_id = v.building_id AND a.premise_no = v.premise_no
   AND (a.closed_on IS NULL OR a.closed_on > to_date(v.period || '-01', 'YYYY-MM-DD'));
