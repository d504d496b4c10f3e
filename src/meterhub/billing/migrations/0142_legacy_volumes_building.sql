-- The building of each legacy meter volume, stored at import (the building of the meter's first apartment
-- link), so legacy_account_volumes filtered by one building reads that building's volumes through an
-- index instead of the whole city's: with 266,000 legacy rows the planner chose a sequential scan of all of
-- them for every building's averaging history (benchmarks/bench_close.py --legacy).
ALTER TABLE legacy_meter_volumes ADD COLUMN building_id text REFERENCES buildings (building_id) ON DELETE CASCADE;
UPDATE legacy_meter_volumes v SET building_id = l.building_id
  FROM (SELECT DISTINCT ON (meter_id) meter_id, building_id FROM meter_links
         WHERE premise_no IS NOT NULL ORDER BY meter_id, valid_from) l
 WHERE l.meter_id = v.meter_id;
CREATE INDEX legacy_meter_volumes_building_idx ON legacy_meter_volumes (building_id, period);

CREATE OR REPLACE VIEW legacy_account_volumes AS
SELECT v.building_id, a.account_no, ml.service, v.period, v.zone, v.method, v.volume * a.share AS volume
  FROM legacy_meter_volumes v
  JOIN meter_links ml ON ml.meter_id = v.meter_id AND ml.building_id = v.building_id
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
