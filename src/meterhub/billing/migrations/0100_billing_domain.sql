-- Billing domain (meterhub.billing): buildings, premises, accounts, residents, meter links, services,
-- suppliers, tariffs, normatives and the common-property method per building and service.
-- Natural keys are the primary keys, so `meterhub import` upserts with ON CONFLICT.

CREATE TABLE services (
    service  text PRIMARY KEY,            -- engine's Service value
    unit     text NOT NULL,
    name_ru  text NOT NULL
);
INSERT INTO services (service, unit, name_ru) VALUES
    ('electricity', 'kWh', 'электроснабжение'),
    ('cold_water',  'm3',  'холодное водоснабжение'),
    ('hot_water',   'm3',  'горячее водоснабжение'),
    ('wastewater',  'm3',  'водоотведение'),
    ('heat',        'Gcal', 'отопление'),
    ('maintenance', 'm2',  'содержание жилого помещения');

-- МКД. building_id is the same text as meters.building_id.
CREATE TABLE buildings (
    building_id        text PRIMARY KEY,
    address            text NOT NULL,
    time_zone          text NOT NULL,                     -- IANA, e.g. 'Europe/Moscow'
    total_area         numeric(14, 4) NOT NULL CHECK (total_area > 0),    -- S_об [m²]
    common_area        numeric(14, 4) NOT NULL CHECK (common_area >= 0),  -- S_ои [m²]
    management_method  text NOT NULL CHECK (management_method IN
                           ('management_company', 'hoa', 'cooperative', 'direct', 'none')),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- помещение
CREATE TABLE premises (
    building_id            text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    premise_no             text NOT NULL,
    residential            boolean NOT NULL DEFAULT true,
    area                   numeric(12, 4) NOT NULL CHECK (area > 0),   -- S_i [m²]
    entrance               integer,
    floor                  integer,
    meter_install_possible boolean NOT NULL DEFAULT true,  -- false: act of technical impossibility (no ×1.5)
    PRIMARY KEY (building_id, premise_no)
);

-- лицевой счёт
CREATE TABLE accounts (
    account_no   text PRIMARY KEY,
    building_id  text NOT NULL,
    premise_no   text NOT NULL,
    share        numeric(9, 8) NOT NULL DEFAULT 1 CHECK (share > 0 AND share <= 1),
    owner_name   text NOT NULL DEFAULT '',
    owners       integer NOT NULL DEFAULT 1 CHECK (owners >= 0),   -- number of owners (ПП 354 п. 56(2))
    opened_on    date NOT NULL,
    closed_on    date,
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE,
    CHECK (closed_on IS NULL OR closed_on > opened_on)
);
CREATE INDEX accounts_premise_idx ON accounts (building_id, premise_no);

-- Registered and temporarily residing persons of an account from valid_from (inclusive) to valid_to
-- (exclusive, NULL = open).
CREATE TABLE resident_counts (
    account_no  text NOT NULL REFERENCES accounts (account_no) ON DELETE CASCADE,
    valid_from  date NOT NULL,
    valid_to    date,
    registered  integer NOT NULL CHECK (registered >= 0),
    temporary   integer NOT NULL DEFAULT 0 CHECK (temporary >= 0),
    PRIMARY KEY (account_no, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);

-- A meter (timeseries `meters`) serving a premise (ИПУ) or the whole building (ОДПУ: premise_no NULL)
-- for one service, from valid_from to valid_to (exclusive).
CREATE TABLE meter_links (
    meter_id     text NOT NULL REFERENCES meters (meter_id) ON DELETE CASCADE,
    valid_from   date NOT NULL,
    valid_to     date,
    building_id  text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    premise_no   text,
    service      text NOT NULL REFERENCES services (service),
    PRIMARY KEY (meter_id, valid_from),
    FOREIGN KEY (building_id, premise_no) REFERENCES premises (building_id, premise_no) ON DELETE CASCADE,
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);
CREATE INDEX meter_links_building_idx ON meter_links (building_id, service);

-- РСО
CREATE TABLE suppliers (
    supplier_id  text PRIMARY KEY,
    name         text NOT NULL,
    inn          text CHECK (inn IS NULL OR inn ~ '^[0-9]{10}([0-9]{2})?$')
);

-- A tariff of a service for `applies_to` ('*' = every building, or one building_id; a building's own
-- tariffs replace the '*' ones for that service). Prices [₽/unit] or [₽/m²] per zone; `zone_schedule`
-- in local time, e.g. 'day=7-23;night=23-7' (NULL = the scheme's default schedule).
CREATE TABLE tariffs (
    service          text NOT NULL REFERENCES services (service),
    applies_to       text NOT NULL DEFAULT '*',
    valid_from       date NOT NULL,
    valid_to         date,
    scheme           text NOT NULL CHECK (scheme IN ('single_rate', 'two_zone', 'three_zone')),
    basis            text NOT NULL CHECK (basis IN ('per_unit', 'per_m2')),
    price_single     numeric(14, 6),
    price_day        numeric(14, 6),
    price_night      numeric(14, 6),
    price_peak       numeric(14, 6),
    price_semi_peak  numeric(14, 6),
    zone_schedule    text,
    supplier_id      text REFERENCES suppliers (supplier_id),
    PRIMARY KEY (service, applies_to, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);

-- норматив: per person per month ('per_person') or per m² of common area per month ('common_per_m2').
CREATE TABLE normatives (
    service     text NOT NULL REFERENCES services (service),
    applies_to  text NOT NULL DEFAULT '*',
    kind        text NOT NULL CHECK (kind IN ('per_person', 'common_per_m2')),
    valid_from  date NOT NULL,
    valid_to    date,
    value       numeric(14, 6) NOT NULL CHECK (value >= 0),
    PRIMARY KEY (service, applies_to, kind, valid_from),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
);

-- The services a building bills, and per service its common-property method (NULL = no common property).
CREATE TABLE building_services (
    building_id              text NOT NULL REFERENCES buildings (building_id) ON DELETE CASCADE,
    service                  text NOT NULL REFERENCES services (service),
    common_property_method   text CHECK (common_property_method IN
                                 ('normative', 'actual_capped', 'actual', 'average')),
    PRIMARY KEY (building_id, service)
);
