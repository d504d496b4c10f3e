-- Heating (отопление) configuration as validity-dated data (billing-rules.md §9.0-1, decision 11).
--
-- * heating_configs: a building's heating method from a date — payment mode (season / even over the
--   calendar year), whether a common-house heat meter (ОДПУ) is used, the normative N_T [Гкал/m²/month],
--   the rule for premises without ИПУ in a partially metered house and the ИПУ share threshold ([U],
--   §9.2.4), months of the heating period (K for even payment), Гкал decimals on the receipt and the
--   month of the yearly correction. enabled = false stops billing heating from that date.
-- * heating_seasons: the heating season's dates per building and year (start inclusive, end exclusive).
-- * premise_heating_devices: what a premise heats with, from a date: 'radiators' (no meter), 'ipu'
--   (individual heat meter), 'distributor' (heat-cost allocators), 'no_devices' (lawfully disconnected,
--   pays the common-property share only). Without a row: 'ipu' when a heat meter is linked, else radiators.
-- * heat_distributor_units: Σ of a premise's distributor units for a month.
-- * heating_house_years: the house's yearly heat by the ОДПУ when it is not in the time series (a history
--   before the house was connected, or a migrated one); the series wins when it has the year.
-- * heating_corrections: the yearly correction per account (computed by `meterhub heating-correction`),
--   booked as a recalculation line of the period named in booked_period.
-- Heat tariffs are rows of `tariffs` with service 'heat' (price_single in ₽/Гкал).

CREATE TABLE heating_configs (
    building_id          text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    valid_from           date NOT NULL,
    enabled              boolean NOT NULL DEFAULT true,
    payment_mode         text NOT NULL CHECK (payment_mode IN ('season', 'even_year')),
    has_odpu             boolean NOT NULL,
    normative_gcal_m2    numeric(14, 8) NOT NULL CHECK (normative_gcal_m2 >= 0),
    unmetered_rule       text NOT NULL DEFAULT 'avg_specific_of_metered'
                         CHECK (unmetered_rule IN ('avg_specific_of_metered', 'normative')),
    ipu_share_threshold  numeric(6, 4) NOT NULL DEFAULT 0 CHECK (ipu_share_threshold BETWEEN 0 AND 1),
    ipu_share_basis      text NOT NULL DEFAULT 'area' CHECK (ipu_share_basis IN ('area', 'count')),
    season_months        smallint NOT NULL DEFAULT 8 CHECK (season_months BETWEEN 1 AND 12),
    volume_decimals      smallint NOT NULL DEFAULT 4 CHECK (volume_decimals BETWEEN 3 AND 6),
    correction_month     smallint NOT NULL DEFAULT 1 CHECK (correction_month BETWEEN 1 AND 3),
    PRIMARY KEY (building_id, valid_from)
);

CREATE TABLE heating_seasons (
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    starts_on    date NOT NULL,
    ends_on      date,
    PRIMARY KEY (building_id, starts_on),
    CHECK (ends_on IS NULL OR ends_on > starts_on)
);

CREATE TABLE premise_heating_devices (
    building_id  text NOT NULL,
    premise_no   text NOT NULL,
    valid_from   date NOT NULL,
    devices      text NOT NULL CHECK (devices IN ('radiators', 'ipu', 'distributor', 'no_devices')),
    note         text NOT NULL DEFAULT '',
    PRIMARY KEY (building_id, premise_no, valid_from),
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE
);

CREATE TABLE heat_distributor_units (
    building_id  text NOT NULL,
    premise_no   text NOT NULL,
    period       text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2}$'),
    units        numeric(14, 4) NOT NULL CHECK (units >= 0),
    PRIMARY KEY (building_id, premise_no, period),
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE
);

CREATE TABLE heating_house_years (
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    year         smallint NOT NULL,
    gcal         numeric(16, 6) NOT NULL CHECK (gcal >= 0),
    PRIMARY KEY (building_id, year)
);

CREATE TABLE heating_corrections (
    building_id    text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    year           smallint NOT NULL,
    account_no     text NOT NULL,
    booked_period  text NOT NULL CHECK (booked_period ~ '^[0-9]{4}-[0-9]{2}$'),
    actual         numeric(14, 2) NOT NULL,
    billed         numeric(14, 2) NOT NULL,
    amount         numeric(14, 2) NOT NULL,
    actual_gcal    numeric(20, 10) NOT NULL,
    basis          text NOT NULL,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (building_id, year, account_no)
);

-- The recalculation marker of closed periods (0103) sees edits of the heating inputs.
DO $$
DECLARE
    spec record;
    ev text;
BEGIN
    FOR spec IN SELECT * FROM (VALUES
        ('heating_configs', 'SELECT t.building_id FROM %1$s'),
        ('heating_seasons', 'SELECT t.building_id FROM %1$s'),
        ('premise_heating_devices', 'SELECT t.building_id FROM %1$s'),
        ('heat_distributor_units', 'SELECT t.building_id FROM %1$s'),
        ('heating_house_years', 'SELECT t.building_id FROM %1$s')
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
