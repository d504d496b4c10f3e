-- Plain PostgreSQL: raw readings and hourly consumption as native range partitions by month (UTC).
-- meterhub creates partitions ahead of the data (meterhub_ensure_partitions), so the index of the
-- partition being written stays small.

CREATE TABLE readings (
    series_id  integer NOT NULL,                 -- meter_registers.series_id
    ts         timestamptz NOT NULL,
    value      double precision NOT NULL,        -- exactly as reported (cumulative counter or momentary value)
    quality    smallint NOT NULL DEFAULT 0,      -- 0 good, 1 uncertain, 2 bad (device status)
    source     smallint NOT NULL DEFAULT 0,      -- 0 gateway, 1 manual, 2 import, 3 estimate
    PRIMARY KEY (series_id, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE hourly_consumption (
    series_id     integer NOT NULL,
    hour          timestamptz NOT NULL,          -- start of the UTC hour
    volume_micro  bigint NOT NULL,               -- volume in 10^-6 of the register unit (exact integer sums)
    quality       smallint NOT NULL,             -- 0 measured, 1 interpolated, 2 estimated, 3 suspect
    PRIMARY KEY (series_id, hour)
) PARTITION BY RANGE (hour);

CREATE FUNCTION meterhub_ensure_partitions(p_table text, p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m timestamptz := date_trunc('month', p_from AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    created integer := 0;
    part text;
BEGIN
    WHILE m <= p_to LOOP
        part := p_table || '_' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(part) IS NULL THEN
            EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                           part, p_table, m, m + interval '1 month');
            created := created + 1;
        END IF;
        m := m + interval '1 month';
    END LOOP;
    RETURN created;
END $$;
