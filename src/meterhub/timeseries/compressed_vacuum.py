"""TimescaleDB: give back the empty pages a compression leaves at the end of a compressed chunk.

TimescaleDB writes a compressed chunk through PostgreSQL's bulk insert, and PostgreSQL 16 and later
extend a relation by many pages at a time on that path: a freshly compressed chunk keeps the pages it
did not fill, empty, at the end of its heap (measured: 14 of 64 pages of a 200-series hourly chunk,
30 of 64 of a full 40-day one; ~1.3 B/row of the hourly series' 5.7 in ``bench_storage.py``). Only a
``VACUUM`` truncates them, and autovacuum rarely visits a compressed chunk: it holds one row per
series and batch, below autovacuum's insert threshold (1 000 rows) in all but the largest
installations. ``vacuum_compressed_chunks`` vacuums the compressed chunks that were never vacuumed
or took rows since (a recompression); ``meterhub db vacuum-compressed`` runs it (daily, after the
compression policy). Plain PostgreSQL has no compressed chunks: nothing to do.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

__all__ = ["vacuum_compressed_chunks"]

# the compressed chunk tables of meterhub's hypertables that were never vacuumed or took rows since
_PENDING = """
SELECT cc.schema_name, cc.table_name
FROM _timescaledb_catalog.chunk c
JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
LEFT JOIN pg_stat_all_tables s ON s.schemaname = cc.schema_name AND s.relname = cc.table_name
WHERE NOT c.dropped AND h.schema_name = current_schema()
  AND (s.relid IS NULL OR s.vacuum_count + s.autovacuum_count = 0 OR s.n_ins_since_vacuum > 0)
ORDER BY c.id
"""


def vacuum_compressed_chunks(conn: psycopg.Connection) -> list[str]:
    """``VACUUM`` the compressed chunks that need it; returns their names (empty on plain PostgreSQL).

    ``conn`` must be in autocommit mode (``VACUUM`` cannot run inside a transaction). A chunk another
    session holds locked is skipped (``SKIP_LOCKED``) and taken the next time.
    """
    if not conn.autocommit:
        raise ValueError("vacuum_compressed_chunks needs an autocommit connection (VACUUM)")
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is None:
        return []
    done = []
    for schema, name in conn.execute(_PENDING).fetchall():
        chunk = sql.Identifier(schema, name)
        conn.execute(sql.SQL("VACUUM (SKIP_LOCKED) {}").format(chunk))
        done.append(f"{schema}.{name}")
    return done
