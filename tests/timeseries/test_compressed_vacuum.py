"""``vacuum_compressed_chunks`` (``meterhub db vacuum-compressed``): the empty pages a compression leaves
at the end of a compressed chunk are given back, the data reads the same, and a second run has nothing
to do; on plain PostgreSQL there is nothing to vacuum."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterhub.cli.wiring import MIGRATION_SOURCES
from meterhub.timeseries.compressed_vacuum import vacuum_compressed_chunks
from meterhub.timeseries.database import connect
from meterhub.timeseries.schema import database_status
from tests.cli.meterhub_cli import run_cli
from tests.timescaledb_server.launcher import compress_all

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

SERIES = 200
# 40 days of hours from 2025-12-18, the start of a 40-day hourly chunk (TimescaleDB aligns chunks to
# multiples of the interval since the Unix epoch): one full chunk, 960 hours per series. Volumes vary by
# series and hour (a hash), so the compressed batches are of realistic size, 0.5-2 kB.
FILL = """
INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality)
SELECT s, %s::timestamptz + h * interval '1 hour',
       (abs(hashtext(s || ':' || h)) %% 90000) * 1000, 0
FROM generate_series(1, %s) s, generate_series(0, 959) h
"""
CHUNK_STARTS = ("2025-12-18 00:00+00", "2026-01-27 00:00+00")  # two consecutive 40-day chunks
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
        conn.execute(FILL, (CHUNK_STARTS[0], SERIES))
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


def _status_lines(db_url: str, tmp_path: Path) -> list[str]:
    out = run_cli(db_url, tmp_path, "db", "status")
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if "vacuum-compressed" in line]


def test_status_on_plain_postgresql_shows_nothing_to_vacuum(
    db_url: str, storage_path, tmp_path: Path
) -> None:
    if storage_path.value != "postgres":
        pytest.skip("the TimescaleDB path is tested below")
    with connect(db_url) as conn:
        st = database_status(conn, MIGRATION_SOURCES)
    assert all(s.vacuum_pending_chunks == 0 and s.vacuum_reclaimable_bytes == 0 for s in st.storage)
    assert _status_lines(db_url, tmp_path) == []


@pytest.mark.timescaledb_only
def test_status_counts_the_chunks_to_vacuum_and_their_empty_pages(db_url: str, tmp_path: Path) -> None:
    # a second full chunk, compressed and not vacuumed (the test above vacuumed the first one)
    with connect(db_url, autocommit=True) as conn:
        conn.execute(FILL, (CHUNK_STARTS[1], SERIES))
        compress_all(conn, "hourly_consumption")
        pages_before = _heap_pages(conn)
        st = database_status(conn, MIGRATION_SOURCES)
    hourly = next(s for s in st.storage if s.table == "hourly_consumption")
    readings = next(s for s in st.storage if s.table == "readings")
    assert (hourly.vacuum_pending_chunks, readings.vacuum_pending_chunks) == (1, 0)
    lines = _status_lines(db_url, tmp_path)
    assert len(lines) == 1
    assert lines[0].strip().startswith("1 compressed chunk(s) not vacuumed since their compression, ")
    assert f"{hourly.vacuum_reclaimable_bytes / 2**20:,.2f} MiB of empty pages" in lines[0]
    with connect(db_url, autocommit=True) as conn:
        vacuum_compressed_chunks(conn)
        pages_after = _heap_pages(conn)
        st = database_status(conn, MIGRATION_SOURCES)
    # what the status called reclaimable is what VACUUM truncated (pages of the heaps, before − after)
    assert hourly.vacuum_reclaimable_bytes == (pages_before - pages_after) * 8192
    assert all(s.vacuum_pending_chunks == 0 and s.vacuum_reclaimable_bytes == 0 for s in st.storage)
    assert _status_lines(db_url, tmp_path) == []


def test_the_command_says_what_it_did(db_url: str, tmp_path: Path) -> None:
    # after the test above (TimescaleDB) or on plain PostgreSQL: every compressed chunk is vacuumed
    out = run_cli(db_url, tmp_path, "db", "vacuum-compressed")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "no compressed chunk to vacuum"
