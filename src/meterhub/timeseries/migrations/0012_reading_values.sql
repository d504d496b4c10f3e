-- Register values as scaled integers. A compressed chunk stores a float8 column with Gorilla (XOR)
-- coding, which keeps most mantissa bits of decimal counters (~5 B a reading); an integer column is
-- delta-of-delta + simple8b coded, and a cumulative register at its resolution (litres, Wh) then
-- costs 1-2 B (benchmarks/bench_storage.py). A reading's value is
--
--     value_int × 10^-value_scale      when it has an exact decimal form with at most 9 decimals,
--     value_float                       otherwise (value_int NULL),
--
-- where value_scale is the register's meter_registers.value_decimals (its resolution: 3 = litres of m³,
-- Wh of kWh) or, for a value with more decimals, the fewest that give it exactly. Decoding divides
-- by 10^scale in float8, which gives back the very double the ingest received (the ingest checks that
-- before it picks the integer form). Readers use the view reading_values (column value) or the
-- function meterhub_reading_value.
--
-- Existing rows keep their double in value_float (the column is renamed, nothing is rewritten: the
-- migration is instant also for compressed chunks); rows written from now on are encoded. Same SQL
-- on both storage paths.

ALTER TABLE meter_registers ADD COLUMN value_decimals smallint NOT NULL DEFAULT 3
    CHECK (value_decimals BETWEEN 0 AND 9);  -- decimals of the register's resolution

DROP VIEW readings_named;
ALTER TABLE readings RENAME COLUMN value TO value_float;
ALTER TABLE readings ALTER COLUMN value_float DROP NOT NULL;
ALTER TABLE readings ADD COLUMN value_int bigint;
ALTER TABLE readings ADD COLUMN value_scale smallint NOT NULL DEFAULT 3;

CREATE FUNCTION meterhub_reading_value(value_int bigint, value_scale smallint, value_float double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT coalesce(value_float, value_int / 10::double precision ^ value_scale) $$;

-- The stored form of a value (for SQL writers, e.g. imports and tests): the fewest decimals from
-- floor_scale up to 9 that give it exactly, else the double itself.
CREATE FUNCTION meterhub_encode_value(v double precision, floor_scale smallint DEFAULT 3,
                                      OUT value_int bigint, OUT value_scale smallint,
                                      OUT value_float double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s.d IS NOT NULL THEN round(v * 10::double precision ^ s.d)::bigint END,
           coalesce(s.d, floor_scale)::smallint,
           CASE WHEN s.d IS NULL THEN v END
    FROM (SELECT (SELECT d FROM generate_series(floor_scale::int, 9) d
                  WHERE abs(v) < 9007199254740992 / 10::double precision ^ d
                    AND round(v * 10::double precision ^ d) / 10::double precision ^ d = v
                  ORDER BY d LIMIT 1) AS d) s
$$;

CREATE VIEW reading_values AS
SELECT series_id, ts, meterhub_reading_value(value_int, value_scale, value_float) AS value, quality, source
FROM readings;

CREATE VIEW readings_named AS
SELECT r.series_id, mr.meter_id, mr.register, r.ts, r.value, mr.unit,
       CASE r.quality WHEN 0 THEN 'good' WHEN 1 THEN 'uncertain' ELSE 'bad' END AS quality,
       CASE r.source WHEN 0 THEN 'gateway' WHEN 1 THEN 'manual' WHEN 2 THEN 'import' ELSE 'estimate' END AS source,
       f.reason AS vee_flag
FROM reading_values r
JOIN meter_registers mr USING (series_id)
LEFT JOIN reading_flags f ON f.series_id = r.series_id AND f.ts = r.ts;
