-- The readings-ingest trigger of 0103 joined every series of every batch to its building before
-- looking at the horizon. Live ingest (data after every horizon) now leaves after one index lookup:
-- the latest horizon of all buildings.
CREATE INDEX billing_change_horizon_until_idx ON billing_change_horizon (watch_until);

CREATE OR REPLACE FUNCTION billing_note_reading_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest timestamptz;
BEGIN
    SELECT max(watch_until) INTO latest FROM billing_change_horizon;
    IF latest IS NULL OR NOT EXISTS (SELECT 1 FROM new_rows WHERE from_ts < latest) THEN
        RETURN NULL;
    END IF;
    INSERT INTO billing_input_changes AS c (building_id, from_ts, to_ts)
    SELECT l.building_id, min(n.from_ts), max(n.to_ts)
    FROM new_rows n
    CROSS JOIN LATERAL unnest(n.series_ids) AS s(series_id)
    JOIN meter_registers mr ON mr.series_id = s.series_id
    JOIN meter_links l ON l.meter_id = mr.meter_id
    JOIN billing_change_horizon h ON h.building_id = l.building_id AND n.from_ts < h.watch_until
    WHERE n.from_ts < latest
    GROUP BY l.building_id
    ON CONFLICT (building_id, xid) DO UPDATE
        SET from_ts = least(c.from_ts, EXCLUDED.from_ts), to_ts = greatest(c.to_ts, EXCLUDED.to_ts);
    RETURN NULL;
END $$;
