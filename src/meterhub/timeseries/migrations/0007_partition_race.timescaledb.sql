-- TimescaleDB creates its chunks itself (meterhub_ensure_partitions returns 0): nothing to change.
SELECT 1;
