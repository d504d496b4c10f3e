-- TimescaleDB: raw readings and hourly consumption as hypertables with compression policies.
-- The hourly series is a rollup maintained by meterhub (linear interpolation across hour
-- boundaries and VEE cannot be expressed as a continuous aggregate); queries use date_bin so
-- the same SQL runs on both storage paths.

CREATE EXTENSION IF NOT EXISTS timescaledb;

CREATE TABLE readings (
    series_id  integer NOT NULL,
    ts         timestamptz NOT NULL,
    value      double precision NOT NULL,
    quality    smallint NOT NULL DEFAULT 0,
    source     smallint NOT NULL DEFAULT 0,
    PRIMARY KEY (series_id, ts)
);
SELECT create_hypertable('readings', 'ts', chunk_time_interval => interval '1 day');
ALTER TABLE readings SET (timescaledb.compress,
                          timescaledb.compress_segmentby = 'series_id',
                          timescaledb.compress_orderby = 'ts');
SELECT add_compression_policy('readings', compress_after => interval '7 days');

CREATE TABLE hourly_consumption (
    series_id     integer NOT NULL,
    hour          timestamptz NOT NULL,
    volume_micro  bigint NOT NULL,
    quality       smallint NOT NULL,
    PRIMARY KEY (series_id, hour)
);
SELECT create_hypertable('hourly_consumption', 'hour', chunk_time_interval => interval '7 days');
ALTER TABLE hourly_consumption SET (timescaledb.compress,
                                    timescaledb.compress_segmentby = 'series_id',
                                    timescaledb.compress_orderby = 'hour');
SELECT add_compression_policy('hourly_consumption', compress_after => interval '45 days');

-- Chunks are created by TimescaleDB itself; the function exists so callers need not know the path.
CREATE FUNCTION meterhub_ensure_partitions(p_table text, p_from timestamptz, p_to timestamptz)
RETURNS integer LANGUAGE sql AS $$ SELECT 0 $$;
