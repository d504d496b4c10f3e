-- Chunk intervals chosen by measurement (benchmarks/bench_storage.py). TimescaleDB compresses each
-- chunk per series (segment by series_id, ordered by time) in batches of up to 1 000 rows, and a batch
-- carries a fixed overhead (a row with per-column headers and min/max metadata). A 1-day chunk of
-- 15-minute readings gave 96-row batches: 17.7 B/row compressed; 10 days give ~960-row batches. Hourly
-- consumption: 40 days = 960 hours per batch instead of 168. Only chunks created from now on get the
-- new interval; compression policies are unchanged (readings after 7 days, hours after 45 days).
SELECT set_chunk_time_interval('readings', interval '10 days');
SELECT set_chunk_time_interval('hourly_consumption', interval '40 days');
