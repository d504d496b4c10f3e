-- Meters, their registers, counter events, validation limits, dead letters.
-- Common to plain PostgreSQL and TimescaleDB.

CREATE TABLE meters (
    meter_id          text PRIMARY KEY,               -- stable: manufacturer + serial, e.g. 'EAS-00123456'
    kind              text NOT NULL CHECK (kind IN ('electricity', 'cold_water', 'hot_water', 'heat')),
    manufacturer      text NOT NULL,
    serial            text NOT NULL,
    model             text,
    building_id       text,                           -- building (МКД) the meter is installed in
    is_house_meter    boolean NOT NULL DEFAULT false, -- ОДПУ (house meter) vs ИПУ (apartment meter)
    multiplier        numeric(14, 6) NOT NULL DEFAULT 1 CHECK (multiplier > 0),  -- transformer ratio / pulse factor
    register_digits   smallint CHECK (register_digits BETWEEN 1 AND 12),         -- counter wraps at 10^digits
    installed_on      date,
    removed_on        date,
    verification_due  date,                           -- дата очередной поверки
    replaces_meter_id text REFERENCES meters (meter_id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (manufacturer, serial)
);
CREATE INDEX meters_building_idx ON meters (building_id);

-- One row per (meter, register): the time series. series_id is the compact key the big tables use;
-- (meter_id, register) <-> series_id is one-to-one, so UNIQUE (series_id, ts) on readings is exactly
-- the contract's unique key (meter_id, register, ts).
CREATE TABLE meter_registers (
    series_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    meter_id         text NOT NULL REFERENCES meters (meter_id) ON DELETE CASCADE,
    register         text NOT NULL CHECK (register ~ '^[a-z][a-z0-9_]{0,62}$'),
    unit             text NOT NULL,
    cumulative       boolean NOT NULL,
    max_per_hour     double precision CHECK (max_per_hour > 0),  -- physical maximum; NULL: the kind's default
    UNIQUE (meter_id, register)
);

-- Physical maximum consumption per hour by meter kind and register ('*' = any register of the kind).
-- A jump above it is flagged suspect. Data, not code: tune with UPDATE.
CREATE TABLE vee_limits (
    kind          text NOT NULL,
    register      text NOT NULL,
    max_per_hour  double precision NOT NULL CHECK (max_per_hour > 0),
    PRIMARY KEY (kind, register)
);
INSERT INTO vee_limits (kind, register, max_per_hour) VALUES
    ('electricity', '*', 60),     -- kWh/h: a 60 A single-phase apartment feed at 230 V is ~14 kW; room for 3-phase
    ('cold_water', '*', 5),       -- m³/h: DN15/DN20 apartment meters, Qmax 3.125–5 m³/h
    ('hot_water', '*', 5),
    ('heat', 'heat_gcal', 0.5),   -- Gcal/h
    ('heat', '*', 20);

-- Explicit counter events. A meter replacement is a 'removal' on the old meter (its final reading)
-- plus an 'installation' on the new one (its initial reading); a counter that restarts on the same
-- meter (reset, firmware swap) is a 'reset' with the values before and after.
CREATE TABLE register_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id     integer NOT NULL REFERENCES meter_registers (series_id) ON DELETE CASCADE,
    ts            timestamptz NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('reset', 'removal', 'installation')),
    value_before  double precision,
    value_after   double precision,
    note          text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (series_id, ts, kind),
    CHECK ((kind = 'installation' OR value_before IS NOT NULL) AND (kind = 'removal' OR value_after IS NOT NULL))
);

-- Everything rejected at a boundary, with the raw payload and the reason. Nothing is dropped silently.
CREATE TABLE dead_letters (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at  timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL,                  -- 'write_readings', 'mqtt', 'api', ...
    reason       text NOT NULL,                  -- machine-readable code: 'unknown_meter', 'future_timestamp', ...
    detail       text NOT NULL,                  -- human-readable: what is wrong and what to do
    meter_id     text,
    register     text,
    ts           timestamptz,
    payload      bytea NOT NULL,                 -- the raw input as received
    context      jsonb                           -- topic, gateway, batch id, ...
);
CREATE INDEX dead_letters_received_idx ON dead_letters (received_at);
CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, received_at);

-- Readings that failed validation (VEE); they stay in `readings`, untouched, and are excluded from volumes.
CREATE TABLE reading_flags (
    series_id  integer NOT NULL,
    ts         timestamptz NOT NULL,
    reason     text NOT NULL,        -- 'backwards', 'jump', 'bad_quality', 'after_removal', ...
    detail     text NOT NULL,
    flagged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (series_id, ts)
);

-- Series whose hourly consumption must be (re)computed from `from_ts` on. write_readings marks;
-- the rollup consumes.
CREATE TABLE series_dirty (
    series_id  integer PRIMARY KEY,
    from_ts    timestamptz NOT NULL,
    to_ts      timestamptz NOT NULL,
    marked_at  timestamptz NOT NULL DEFAULT now()
);
