"""Rewrite readings stored as doubles before migration 0012 into scaled integers (TimescaleDB).

Migration 0012 keeps old rows as they were (``value_float``), so upgrading is instant; their chunks
keep the size of Gorilla-coded doubles (~6 B a reading compressed against ~2 B). ``meterhub db
reencode-readings`` rewrites them chunk by chunk, one transaction each: a compressed chunk is
decompressed, every row whose value has an exact decimal form at its register's resolution (or up to
9 decimals) gets it (``meterhub_encode_value``), and the chunk is compressed again. Values read back
the same. On plain PostgreSQL a row costs the same either way, so there is nothing to gain and nothing
is rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from meterhub.timeseries.migrate import StoragePath, recorded_storage_path


@dataclass
class ReencodeStats:
    chunks: int = 0  # chunks rewritten
    rows: int = 0  # rows now stored as integers
    kept_as_doubles: int = 0  # rows whose value has no integer form


def reencode_readings(
    conn: psycopg.Connection, *, progress: Callable[[str, int], None] | None = None
) -> ReencodeStats:
    """Rewrite the chunks of ``readings`` that hold values stored as doubles; commits per chunk."""
    stats = ReencodeStats()
    if recorded_storage_path(conn) is not StoragePath.TIMESCALEDB:
        return stats
    chunks = conn.execute(
        "SELECT format('%I.%I', chunk_schema, chunk_name), is_compressed "
        "FROM timescaledb_information.chunks WHERE hypertable_name = 'readings' ORDER BY range_start"
    ).fetchall()
    conn.commit()
    for name, compressed in chunks:
        chunk = sql.SQL(name)  # schema-qualified and quoted by format('%I.%I')
        with conn.transaction():
            doubles = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE value_float IS NOT NULL").format(chunk)
            ).fetchone()[0]  # type: ignore[index]
            if not doubles:
                continue
            if compressed:
                conn.execute("SELECT decompress_chunk(%s::regclass)", (name,))
            cur = conn.execute(
                sql.SQL(
                    """
                    UPDATE {} r SET (value_int, value_scale, value_float) =
                        (SELECT e.value_int, e.value_scale, e.value_float
                         FROM meterhub_encode_value(r.value_float, mr.value_decimals) e)
                    FROM meter_registers mr
                    WHERE mr.series_id = r.series_id AND r.value_float IS NOT NULL
                    """
                ).format(chunk)
            )
            left = conn.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE value_float IS NOT NULL").format(chunk)
            ).fetchone()[0]  # type: ignore[index]
            if compressed:
                conn.execute("SELECT compress_chunk(%s::regclass)", (name,))
        stats.chunks += 1
        stats.rows += cur.rowcount - left
        stats.kept_as_doubles += left
        if progress:
            progress(name, cur.rowcount - left)
    return stats
