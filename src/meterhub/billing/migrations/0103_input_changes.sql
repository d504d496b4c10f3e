-- A cheap per-building change marker for the recalculation check of closed periods
-- (meterhub.billing.input_changes). The close reloads a closed period only when a change to its
-- building's inputs was committed after the period was computed; the input digest (0102) stays the
-- exact check behind this one.
--
-- * billing_input_changes: one row per (building, writing transaction) with the time span of the
--   readings it wrote ('-infinity'..'infinity' for domain changes). building_id '*' = every building
--   (a '*' tariff or normative, VEE limits). "After the period was computed" = the writer's xid is not
--   visible in the snapshot stored with the period (pg_visible_in_snapshot), so a transaction that was
--   in flight while the close read its inputs is never missed, whatever its commit order.
-- * billing_change_horizon: readings ingest logs a change only when it reaches back before the
--   building's horizon (the end of its latest finally closed period, + 1 h), so live ingest of the open
--   month writes nothing here.
-- * billing_periods.input_snapshot / inputs_from / inputs_to: the snapshot taken before the period's
--   inputs were loaded and the time span of readings those inputs depend on (inputs_to NULL: the
--   period had hourly meters with gaps that later data may fill, so it is always rechecked).

CREATE TABLE billing_input_changes (
    building_id  text NOT NULL,
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    from_ts      timestamptz NOT NULL,
    to_ts        timestamptz NOT NULL,
    PRIMARY KEY (building_id, xid)
);

CREATE TABLE billing_change_horizon (
    building_id  text PRIMARY KEY,
    watch_until  timestamptz NOT NULL
);

ALTER TABLE billing_periods
    ADD COLUMN input_snapshot pg_snapshot,
    ADD COLUMN inputs_from    timestamptz,
    ADD COLUMN inputs_to      timestamptz;

-- Readings ingest: write_readings appends one series_dirty_log row per batch (timeseries 0005).
CREATE FUNCTION billing_note_reading_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO billing_input_changes AS c (building_id, from_ts, to_ts)
    SELECT l.building_id, min(n.from_ts), max(n.to_ts)
    FROM new_rows n
    CROSS JOIN LATERAL unnest(n.series_ids) AS s(series_id)
    JOIN meter_registers mr ON mr.series_id = s.series_id
    JOIN meter_links l ON l.meter_id = mr.meter_id
    JOIN billing_change_horizon h ON h.building_id = l.building_id AND n.from_ts < h.watch_until
    GROUP BY l.building_id
    ON CONFLICT (building_id, xid) DO UPDATE
        SET from_ts = least(c.from_ts, EXCLUDED.from_ts), to_ts = greatest(c.to_ts, EXCLUDED.to_ts);
    RETURN NULL;
END $$;

CREATE TRIGGER billing_input_changes AFTER INSERT ON series_dirty_log
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_note_reading_changes();

-- Domain changes (rare, bulk on import): TG_ARGV[0] is a SELECT of building ids from the relation %1$s
-- (the rows inserted or deleted; for an update, the rows that actually differ, old and new).
CREATE FUNCTION billing_note_domain_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rels text[];
    rel text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        rels := ARRAY['new_rows'];
    ELSIF TG_OP = 'DELETE' THEN
        rels := ARRAY['old_rows'];
    ELSE
        rels := ARRAY['(SELECT * FROM new_rows EXCEPT SELECT * FROM old_rows)',
                      '(SELECT * FROM old_rows EXCEPT SELECT * FROM new_rows)'];
    END IF;
    FOREACH rel IN ARRAY rels LOOP
        EXECUTE 'INSERT INTO billing_input_changes (building_id, from_ts, to_ts) '
             || 'SELECT DISTINCT b, ''-infinity''::timestamptz, ''infinity''::timestamptz FROM ('
             || format(TG_ARGV[0], rel || ' AS t') || ') s(b) WHERE b IS NOT NULL '
             || 'ON CONFLICT (building_id, xid) DO UPDATE '
             || 'SET from_ts = ''-infinity''::timestamptz, to_ts = ''infinity''::timestamptz';
    END LOOP;
    RETURN NULL;
END $$;

DO $$
DECLARE
    spec record;
    ev text;
BEGIN
    FOR spec IN SELECT * FROM (VALUES
        ('buildings', 'SELECT t.building_id FROM %1$s'),
        ('premises', 'SELECT t.building_id FROM %1$s'),
        ('accounts', 'SELECT t.building_id FROM %1$s'),
        ('resident_counts', 'SELECT a.building_id FROM %1$s JOIN accounts a USING (account_no)'),
        ('meter_links', 'SELECT t.building_id FROM %1$s'),
        ('building_services', 'SELECT t.building_id FROM %1$s'),
        ('tariffs', 'SELECT t.applies_to FROM %1$s'),
        ('normatives', 'SELECT t.applies_to FROM %1$s'),
        ('meters', 'SELECT l.building_id FROM %1$s JOIN meter_links l USING (meter_id) '
                   'UNION SELECT t.building_id FROM %1$s'),
        ('meter_registers', 'SELECT l.building_id FROM %1$s JOIN meter_links l USING (meter_id)'),
        ('register_events', 'SELECT l.building_id FROM %1$s JOIN meter_registers mr USING (series_id) '
                            'JOIN meter_links l ON l.meter_id = mr.meter_id'),
        ('vee_limits', 'SELECT ''*'' FROM %1$s')
    ) v(tbl, query) LOOP
        FOREACH ev IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            EXECUTE format(
                'CREATE TRIGGER billing_input_changes_%s AFTER %s ON %I %s FOR EACH STATEMENT '
                'EXECUTE FUNCTION billing_note_domain_changes(%L)',
                lower(ev), ev, spec.tbl,
                CASE ev WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                        WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                        ELSE 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                spec.query);
        END LOOP;
    END LOOP;
END $$;
