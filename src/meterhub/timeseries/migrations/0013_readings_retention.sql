-- Retention of raw readings (meterhub.timeseries.retention, `meterhub db retention`): the time before
-- which readings were dropped (whole TimescaleDB chunks or monthly partitions). The rollup never
-- replaces hours that were computed from dropped readings (it starts a series' recomputation at the
-- end of the hour of its first remaining reading when older hours exist).
CREATE TABLE readings_retention (
    one             boolean PRIMARY KEY DEFAULT true CHECK (one),
    dropped_before  timestamptz NOT NULL,    -- no reading older than this is stored any more
    dropped_at      timestamptz NOT NULL DEFAULT now()
);
