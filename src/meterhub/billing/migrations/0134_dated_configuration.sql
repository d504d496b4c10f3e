-- Validity-dated configuration (billing-rules.md, decision 11): each row applies from valid_from until the
-- next row of the same key; the close reads the configuration in force for the period it computes, so a
-- change dated in an open period never re-bills a closed one.
--
-- * common_property_methods: a building's ОДН/КРСОИ method per service from a date (NULL method = no
--   common property from that date). Without a row, building_services.common_property_method applies.
-- * zone_schedules + holiday_calendars: zone schedules that depend on the weekday and on holidays, as data.
-- * tariff_plans: the tariff plan (zone scheme, optionally a named schedule) of a building (default), an
--   account or a meter, per service, from a date. account_no / meter_id '' = not at that level.
-- * meter_states: working / failed / being replaced by the consumer / verification expired, from a date.
-- * technical_impossibility_acts: акт об отсутствии технической возможности установки ИПУ, per premise
--   and service, from a date (impossible = false revokes it).
-- * tariffs: several zone schemes of one service may be priced for the same dates (one per scheme).

CREATE TABLE common_property_methods (
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    service      text NOT NULL REFERENCES services (service),
    valid_from   date NOT NULL,
    method       text CHECK (method IN ('normative', 'actual_capped', 'actual', 'average')),
    PRIMARY KEY (building_id, service, valid_from)
);

CREATE TABLE holiday_calendars (
    calendar  text NOT NULL,
    day       date NOT NULL,
    kind      text NOT NULL DEFAULT 'holiday' CHECK (kind IN ('holiday', 'workday')),
    name      text NOT NULL DEFAULT '',
    PRIMARY KEY (calendar, day)
);

-- Intervals as in tariffs.zone_schedule ('day=7-23;night=23-7'); workday NULL = the scheme's default,
-- saturday NULL = as workday, sunday NULL = as saturday, holiday NULL = as sunday.
CREATE TABLE zone_schedules (
    schedule  text PRIMARY KEY,
    scheme    text NOT NULL CHECK (scheme IN ('single_rate', 'two_zone', 'three_zone')),
    workday   text,
    saturday  text,
    sunday    text,
    holiday   text,
    calendar  text NOT NULL DEFAULT ''   -- holiday_calendars.calendar ('' = no holidays)
);

CREATE TABLE tariff_plans (
    building_id    text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    account_no     text NOT NULL DEFAULT '',
    meter_id       text NOT NULL DEFAULT '',
    service        text NOT NULL DEFAULT 'electricity' REFERENCES services (service),
    valid_from     date NOT NULL,
    scheme         text NOT NULL CHECK (scheme IN ('single_rate', 'two_zone', 'three_zone')),
    zone_schedule  text REFERENCES zone_schedules (schedule),
    source         text NOT NULL DEFAULT 'import',   -- 'import' or 'request <id>'
    PRIMARY KEY (building_id, account_no, meter_id, service, valid_from),
    CHECK (account_no = '' OR meter_id = '')
);

-- A resident's request to change the tariff plan (from the cabinet's tariff advice); staff approval
-- writes a tariff_plans row from the first day of the next period.
CREATE TABLE tariff_plan_requests (
    request_id     bigint PRIMARY KEY,            -- api_requests.request_id (the API schema comes later)
    account_no     text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    service        text NOT NULL DEFAULT 'electricity' REFERENCES services (service),
    scheme         text NOT NULL CHECK (scheme IN ('single_rate', 'two_zone', 'three_zone')),
    status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_at   timestamptz NOT NULL DEFAULT now(),
    decided_at     timestamptz,
    effective_from date
);

CREATE TABLE meter_states (
    meter_id    text NOT NULL REFERENCES meters (meter_id) ON DELETE CASCADE,
    valid_from  date NOT NULL,
    state       text NOT NULL CHECK (state IN ('working', 'failed', 'being_replaced', 'verification_expired')),
    note        text NOT NULL DEFAULT '',
    PRIMARY KEY (meter_id, valid_from)
);

CREATE TABLE technical_impossibility_acts (
    building_id  text NOT NULL,
    premise_no   text NOT NULL,
    service      text NOT NULL REFERENCES services (service),
    valid_from   date NOT NULL,
    impossible   boolean NOT NULL DEFAULT true,
    act_no       text NOT NULL DEFAULT '',
    PRIMARY KEY (building_id, premise_no, service, valid_from),
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE
);

-- Is installing an individual meter of `service` technically impossible in the premise on `day`? The act
-- in force for that service decides; a premise without any act row keeps the legacy premise-wide flag
-- premises.meter_install_possible.
CREATE FUNCTION meter_install_impossible(b text, p text, s text, d date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM technical_impossibility_acts t WHERE t.building_id = b AND t.premise_no = p)
        THEN coalesce((SELECT t.impossible FROM technical_impossibility_acts t
                        WHERE t.building_id = b AND t.premise_no = p AND t.service = s AND t.valid_from <= d
                        ORDER BY t.valid_from DESC LIMIT 1), false)
        ELSE coalesce((SELECT NOT pr.meter_install_possible FROM premises pr
                        WHERE pr.building_id = b AND pr.premise_no = p), false)
    END
$$;

ALTER TABLE tariffs DROP CONSTRAINT tariffs_pkey;
ALTER TABLE tariffs ADD PRIMARY KEY (service, applies_to, scheme, valid_from);

-- The recalculation marker of closed periods (0103) sees edits of the new inputs.
DO $$
DECLARE
    spec record;
    ev text;
BEGIN
    FOR spec IN SELECT * FROM (VALUES
        ('common_property_methods', 'SELECT t.building_id FROM %1$s'),
        ('holiday_calendars', 'SELECT ''*'' FROM %1$s'),
        ('zone_schedules', 'SELECT ''*'' FROM %1$s'),
        ('tariff_plans', 'SELECT t.building_id FROM %1$s'),
        ('meter_states', 'SELECT l.building_id FROM %1$s JOIN meter_links l USING (meter_id)'),
        ('technical_impossibility_acts', 'SELECT t.building_id FROM %1$s')
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
