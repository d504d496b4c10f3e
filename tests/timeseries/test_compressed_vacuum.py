"""``vacuum_compressed_chunks`` (``meterhub db vacuum-compressed``): the empty pages a compression leaves
at the end of a compressed chunk are given back, the data reads the same, and a second run has nothing
to do; on plain PostgreSQL there is nothing to vacuum."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterhub.timeseries.compressed_vacuum import vacuum_compressed_chunks
from meterhub.timeseries.database import connect
from tests.cli.meterhub_cli import run_cli
from tests.timescaledb_server.launcher import compress_all

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

SERIES = 200
# 40 days of hours from 2025-12-18, the start of a 40-day hourly chunk (TimescaleDB aligns chunks to
# multiples of the interval since the Unix epoch): one full chunk, 960 hours per series. Volumes vary by
# series and hour (a hash), so the compressed batches are of realistic size, 0.5-2 kB.
FILL = """
INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality)
SELECT s, timestamptz '2025-12-18 00:00+00' + h * interval '1 hour',
       (abs(hashtext(s || ':' || h)) %% 90000) * 1000, 0
FROM generate_series(1, %s) s, generate_series(0, 959) h
"""
CHECKSUM = (
    "SELECT count(*), sum(volume_micro), sum(volume_micro * extract(epoch FROM hour)) FROM hourly_consumption"
)


def _heap_pages(conn) -> int:
    """Pages of the compressed chunks' heaps of hourly_consumption."""
    return conn.execute(
        """
        SELECT coalesce(sum(pg_relation_size(
                   format('%%I.%%I', cc.schema_name, cc.table_name), 'main')), 0) / 8192
        FROM _timescaledb_catalog.chunk c
        JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
        JOIN _timescaledb_catalog.chunk cc ON cc.id = c.compressed_chunk_id
        WHERE h.table_name = %s
        """,
        ("hourly_consumption",),
    ).fetchone()[0]


def test_plain_postgresql_has_nothing_to_vacuum(db_url: str, storage_path) -> None:
    if storage_path.value != "postgres":
        pytest.skip("the TimescaleDB path is tested below")
    with connect(db_url, autocommit=True) as conn:
        assert vacuum_compressed_chunks(conn) == []


def test_it_needs_an_autocommit_connection(db_url: str) -> None:
    with connect(db_url) as conn, pytest.raises(ValueError, match="autocommit"):
        vacuum_compressed_chunks(conn)


@pytest.mark.timescaledb_only
def test_compressed_chunks_give_back_their_empty_pages(db_url: str) -> None:
    with connect(db_url, autocommit=True) as conn:
        conn.execute(FILL, (SERIES,))
        before_data = conn.execute(CHECKSUM).fetchone()
        compress_all(conn, "hourly_consumption")
        pages = _heap_pages(conn)
        size = conn.execute("SELECT hypertable_size('hourly_consumption')").fetchone()[0]
        done = vacuum_compressed_chunks(conn)
        assert len(done) == 1  # the one full chunk
        after = _heap_pages(conn)
        assert conn.execute("SELECT hypertable_size('hourly_consumption')").fetchone()[0] < size
        if conn.info.server_version >= 160000:  # bulk extension by many pages: PostgreSQL 16+
            assert after < pages
        assert conn.execute(CHECKSUM).fetchone() == before_data
        assert vacuum_compressed_chunks(conn) == []  # nothing new since


def test_the_command_says_what_it_did(db_url: str, tmp_path: Path) -> None:
    # after the test above (TimescaleDB) or on plain PostgreSQL: every compressed chunk is vacuumed
    out = run_cli(db_url, tmp_path, "db", "vacuum-compressed")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no compressed chunk to vacuum"
