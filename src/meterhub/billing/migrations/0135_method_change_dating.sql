-- Decision 11 in the database: changing building_services.common_property_method of a building that has
-- closed periods — by an import, the API or plain SQL — keeps the old method for the past (a dated row
-- from 1900-01-01 unless one exists) and dates the new one from the first day after the latest closed
-- period, so a recheck of a closed period reads the method it was billed with.
CREATE FUNCTION billing_date_method_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest text;
BEGIN
    SELECT max(period) INTO latest FROM billing_periods
     WHERE building_id = NEW.building_id AND status = 'closed';
    IF latest IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO common_property_methods (building_id, service, valid_from, method)
    VALUES (NEW.building_id, NEW.service, DATE '1900-01-01', OLD.common_property_method)
    ON CONFLICT DO NOTHING;
    INSERT INTO common_property_methods (building_id, service, valid_from, method)
    VALUES (NEW.building_id, NEW.service, to_date(latest, 'YYYY-MM') + interval '1 month',
            NEW.common_property_method)
    ON CONFLICT (building_id, service, valid_from) DO UPDATE SET method = EXCLUDED.method;
    RETURN NULL;
END $$;

CREATE TRIGGER billing_date_method_change
    AFTER UPDATE OF common_property_method ON building_services
    FOR EACH ROW WHEN (OLD.common_property_method IS DISTINCT FROM NEW.common_property_method)
    EXECUTE FUNCTION billing_date_method_change();
