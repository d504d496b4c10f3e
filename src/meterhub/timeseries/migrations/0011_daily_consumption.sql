-- The daily series: one row per series and LOCAL calendar day of its building (buildings.time_zone;
-- UTC for a meter whose building is not registered), kept by the rollup for the days whose hours it
-- rebuilds (meterhub.timeseries.daily). For the cabinet and Grafana, which show local days and
-- months. A plain table on both storage paths: a TimescaleDB continuous aggregate buckets in one time
-- zone for all rows, and buildings have their own zones. It has 1/24 of the hourly rows.

CREATE TABLE daily_consumption (
    series_id           integer NOT NULL,        -- meter_registers.series_id
    day                 date NOT NULL,           -- local calendar day in daily_series_zone.time_zone
    volume_micro        bigint NOT NULL,         -- sum of the day's billable hours (quality < 3) [10^-6 unit]
    suspect_micro       bigint NOT NULL,         -- sum of the day's suspect hours (quality 3), not billable
    measured_hours      smallint NOT NULL,       -- hours per quality (0, 1, 2, 3) present on that day
    interpolated_hours  smallint NOT NULL,
    estimated_hours     smallint NOT NULL,
    suspect_hours       smallint NOT NULL,
    PRIMARY KEY (series_id, day)
);

-- The zone each series' days were cut in. A series whose building's zone differs (set or changed
-- after its data) or is NULL here (not built yet) is rebuilt whole by the next rollup.
CREATE TABLE daily_series_zone (
    series_id  integer PRIMARY KEY,
    time_zone  text                              -- NULL: the daily rows are still to be built
);
-- existing installations: every cumulative series gets its daily rows from its hourly ones
INSERT INTO daily_series_zone (series_id, time_zone)
SELECT series_id, NULL FROM meter_registers WHERE cumulative;

CREATE VIEW daily_volumes AS
SELECT d.series_id, mr.meter_id, mr.register, m.kind, m.building_id, d.day,
       d.volume_micro / 1000000.0 AS volume, d.suspect_micro / 1000000.0 AS suspect_volume, mr.unit,
       d.measured_hours, d.interpolated_hours, d.estimated_hours, d.suspect_hours,
       z.time_zone
FROM daily_consumption d
JOIN meter_registers mr USING (series_id)
JOIN meters m USING (meter_id)
LEFT JOIN daily_series_zone z USING (series_id);
