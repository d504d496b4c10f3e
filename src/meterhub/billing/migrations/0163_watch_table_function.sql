-- One definition of "this table is an input of the close": billing_watch_table(tbl, buildings) puts the
-- three statement triggers of the recalculation marker of closed periods (0103) on `tbl`. `buildings` is
-- the SELECT of the building ids a change touches, with %1$s standing for the changed rows (see
-- billing_note_domain_changes, 0103); '*' = every building. Calling it again replaces the triggers (a new
-- query, or a table that lost one of its three triggers).
--
-- 0103, 0134, 0150 and registry 0400 each wrote the same trigger loop out; they stay as they are, because
-- the migration runner refuses an applied migration whose file changed (schema_migrations.checksum).
-- Here every table that has a billing_input_changes_* trigger gets its three triggers re-created by the
-- function, with the query it already had, so on an upgraded database every watched table goes through
-- billing_watch_table (the resulting triggers are the same as before). On a new database registry 0400
-- runs after this migration and still uses its own loop, with the same result. New input tables:
--     SELECT billing_watch_table('new_table', 'SELECT t.building_id FROM %1$s');
CREATE FUNCTION billing_watch_table(tbl regclass, buildings text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ev text;
BEGIN
    FOREACH ev IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        EXECUTE format(
            'CREATE OR REPLACE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT '
            'EXECUTE FUNCTION billing_note_domain_changes(%L)',
            'billing_input_changes_' || lower(ev), ev, tbl,
            CASE ev WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                    WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                    ELSE 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
            buildings);
    END LOOP;
END $$;

-- The tables watched so far, with their query: the one argument of any of their triggers (pg_trigger
-- stores it NUL-terminated in tgargs).
SELECT billing_watch_table(w.tbl, w.buildings)
  FROM (SELECT DISTINCT ON (t.tgrelid) t.tgrelid::regclass AS tbl,
               convert_from(substring(t.tgargs FOR position('\x00'::bytea IN t.tgargs) - 1), 'UTF8') AS buildings
          FROM pg_trigger t
         WHERE t.tgname IN ('billing_input_changes_insert', 'billing_input_changes_update',
                            'billing_input_changes_delete')
           AND t.tgfoid = 'billing_note_domain_changes'::regproc
         ORDER BY t.tgrelid, t.tgname) w;
