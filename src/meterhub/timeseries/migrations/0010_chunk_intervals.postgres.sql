-- Plain PostgreSQL keeps monthly partitions (0002): the chunk intervals of 0010 are TimescaleDB's.
SELECT 1;
