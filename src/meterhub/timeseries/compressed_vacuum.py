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

from dataclasses import dataclass

import psycopg
from psycopg import sql

__all__ = ["ChunkToVacuum", "compressed_chunks_to_vacuum", "vacuum_compressed_chunks"]

# the compressed chunk tables of meterhub's hypertables that were never vacuumed or took rows since
_PENDING = """
SELECT h.table_name, cc.schema_name, cc.table_name
FROM _timescaledb_catalog.chunk c
JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
LEFT JOIN pg_stat_all_tables s ON s.schemaname = cc.schema_name AND s.relname = cc.table_name
WHERE NOT c.dropped AND h.schema_name = current_schema()
  AND (s.relid IS NULL OR s.vacuum_count + s.autovacuum_count = 0 OR s.n_ins_since_vacuum > 0)
ORDER BY c.id
"""

# pages of a compressed chunk's heap, and those up to its last page that holds a row (a compressed
# chunk holds one row per series and batch: reading the block numbers of its ctids is cheap)
_TAIL = """
SELECT pg_relation_size({name}::regclass, 'main') / current_setting('block_size')::bigint,
       coalesce((SELECT max((ctid::text::point)[0])::bigint + 1 FROM {chunk}), 0),
       current_setting('block_size')::bigint
"""


@dataclass(frozen=True, slots=True)
class ChunkToVacuum:
    """A compressed chunk that ``vacuum_compressed_chunks`` would vacuum."""

    hypertable: str
    chunk: str  # schema.table of the compressed chunk
    empty_tail_bytes: int  # empty pages after its last row [B]: what a VACUUM can truncate


def _has_timescaledb(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is not None


def compressed_chunks_to_vacuum(conn: psycopg.Connection) -> list[ChunkToVacuum]:
    """The compressed chunks never vacuumed since their compression (or that took rows since), with the
    empty pages at the end of each heap; empty on plain PostgreSQL.

    The empty tail is what ``VACUUM`` gives back when it truncates a heap; PostgreSQL truncates only
    when the tail is at least 1/16 of the heap (or 1 000 pages), so a small tail may stay. Reading it
    costs one scan of the block numbers of each pending chunk's rows (a few hundred rows a chunk).
    """
    if not _has_timescaledb(conn):
        return []
    out = []
    for hypertable, schema, name in conn.execute(_PENDING).fetchall():
        chunk = sql.Identifier(schema, name)
        query = sql.SQL(_TAIL).format(chunk=chunk, name=sql.Literal(chunk.as_string(conn)))
        pages, used, block = conn.execute(query).fetchone()  # type: ignore[misc]
        out.append(ChunkToVacuum(hypertable, f"{schema}.{name}", max(0, int(pages) - int(used)) * int(block)))
    return out


def vacuum_compressed_chunks(conn: psycopg.Connection) -> list[str]:
    """``VACUUM`` the compressed chunks that need it; returns their names (empty on plain PostgreSQL).

    ``conn`` must be in autocommit mode (``VACUUM`` cannot run inside a transaction). A chunk another
    session holds locked is skipped (``SKIP_LOCKED``) and taken the next time.
    """
    if not conn.autocommit:
        raise ValueError("vacuum_compressed_chunks needs an autocommit connection (VACUUM)")
    if not _has_timescaledb(conn):
        return []
    done = []
    for _, schema, name in conn.execute(_PENDING).fetchall():
        chunk = sql.Identifier(schema, name)
        conn.execute(sql.SQL("VACUUM (SKIP_LOCKED) {}").format(chunk))
        done.append(f"{schema}.{name}")
    return done
