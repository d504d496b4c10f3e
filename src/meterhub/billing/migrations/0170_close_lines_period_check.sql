-- The close writes ≈ 3,150 charge lines and ≈ 1,750 volume rows per 350-flat building with COPY. Their
-- foreign key to billing_periods was checked row by row (one RI trigger call and one index probe of the
-- same period row per line: about a third of the server time of the write). The same rule is now
-- checked once per statement over the statement's rows (transition tables), with the same lock on the
-- period row (FOR KEY SHARE: it cannot be deleted while the writing transaction runs), the same error
-- class (foreign_key_violation) and the same ON DELETE CASCADE from billing_periods. Like the foreign key's
-- own triggers, the functions run with the table owner's rights (SECURITY DEFINER), whoever writes.

ALTER TABLE charge_lines DROP CONSTRAINT charge_lines_building_id_period_fkey;
ALTER TABLE period_volumes DROP CONSTRAINT period_volumes_building_id_period_fkey;

CREATE FUNCTION billing_period_rows_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    missing record;
BEGIN
    -- lock the referenced periods first (as the foreign key does), then look for rows without one
    PERFORM 1 FROM billing_periods p
      JOIN (SELECT DISTINCT building_id, period FROM new_rows) n USING (building_id, period)
       FOR KEY SHARE OF p;
    SELECT n.building_id, n.period INTO missing
      FROM (SELECT DISTINCT building_id, period FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM billing_periods p
                        WHERE p.building_id = n.building_id AND p.period = n.period)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key: key (building_id, period)=(%, %) '
                        'is not present in table "billing_periods"', TG_TABLE_NAME, missing.building_id,
                        missing.period
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION billing_period_rows_cascade() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    DELETE FROM charge_lines c USING old_rows o WHERE c.building_id = o.building_id AND c.period = o.period;
    DELETE FROM period_volumes v USING old_rows o WHERE v.building_id = o.building_id AND v.period = o.period;
    RETURN NULL;
END
$$;

-- a period's key never changes while lines reference it (the foreign key's ON UPDATE NO ACTION)
CREATE FUNCTION billing_period_key_update_check() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM (SELECT building_id, period FROM old_rows EXCEPT SELECT building_id, period FROM new_rows) o
         WHERE EXISTS (SELECT 1 FROM charge_lines c WHERE c.building_id = o.building_id AND c.period = o.period)
            OR EXISTS (SELECT 1 FROM period_volumes v WHERE v.building_id = o.building_id AND v.period = o.period)
    ) THEN
        RAISE EXCEPTION 'update on table "billing_periods" violates foreign key: lines still reference the period'
              USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER charge_lines_period_insert AFTER INSERT ON charge_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_period_rows_check();
CREATE TRIGGER charge_lines_period_update AFTER UPDATE ON charge_lines
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_period_rows_check();
CREATE TRIGGER period_volumes_period_insert AFTER INSERT ON period_volumes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_period_rows_check();
CREATE TRIGGER period_volumes_period_update AFTER UPDATE ON period_volumes
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_period_rows_check();
CREATE TRIGGER billing_periods_lines_cascade AFTER DELETE ON billing_periods
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_period_rows_cascade();
CREATE TRIGGER billing_periods_lines_key_update AFTER UPDATE ON billing_periods
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION billing_period_key_update_check();
