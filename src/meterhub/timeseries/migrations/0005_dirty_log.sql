-- Cheaper dirty marking on the ingest hot path: one appended row per written batch (the series it
-- touched and the batch's time span) instead of an upsert per series. The rollup folds the log into
-- series_dirty before it works (meterhub.timeseries.rollup.fold_dirty_log).

CREATE TABLE series_dirty_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_ids  integer[] NOT NULL,
    from_ts     timestamptz NOT NULL,
    to_ts       timestamptz NOT NULL,
    logged_at   timestamptz NOT NULL DEFAULT now()
);
