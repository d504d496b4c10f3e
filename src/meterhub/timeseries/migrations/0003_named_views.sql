-- Views with names instead of compact keys, for people, Grafana and ad-hoc SQL.

CREATE VIEW readings_named AS
SELECT r.series_id, mr.meter_id, mr.register, r.ts, r.value, mr.unit,
       CASE r.quality WHEN 0 THEN 'good' WHEN 1 THEN 'uncertain' ELSE 'bad' END AS quality,
       CASE r.source WHEN 0 THEN 'gateway' WHEN 1 THEN 'manual' WHEN 2 THEN 'import' ELSE 'estimate' END AS source,
       f.reason AS vee_flag
FROM readings r
JOIN meter_registers mr USING (series_id)
LEFT JOIN reading_flags f ON f.series_id = r.series_id AND f.ts = r.ts;

CREATE VIEW hourly_volumes AS
SELECT h.series_id, mr.meter_id, mr.register, m.kind, m.building_id, h.hour,
       h.volume_micro / 1000000.0 AS volume, mr.unit,
       CASE h.quality WHEN 0 THEN 'measured' WHEN 1 THEN 'interpolated' WHEN 2 THEN 'estimated' ELSE 'suspect' END
           AS quality
FROM hourly_consumption h
JOIN meter_registers mr USING (series_id)
JOIN meters m USING (meter_id);
