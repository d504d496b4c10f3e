"""The hourly series and the close over *compressed* TimescaleDB chunks: backfill, re-send, VEE, rebuild
and a period close after ``compress_chunk``.

TimescaleDB decompresses the compressed rows a DML statement may touch and refuses to decompress more
than ``timescaledb.max_tuples_decompressed_per_dml_transaction`` in one transaction. These tests set that
limit far below the table's size (but above one series' week), so a rollup that decompresses more than
its own series and span fails them — as the join-only DELETE did (every compressed row, 45 days after
go-live). Expected volumes come from the readings the tests write, computed by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.database import connect
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.rollup import process_dirty, rebuild
from tests.timescaledb_server.launcher import compress_all, decompression_limited

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.timescaledb_only]

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # a Thursday: TimescaleDB's 7-day chunks start on Thursdays
DAYS = 63
NOW = T0 + timedelta(days=DAYS + 1)
SERIES = 20
LIMIT = 1000  # rows one DML transaction may decompress; one series' week of hours is 168
GAP = T0 + timedelta(days=17, hours=10)  # series 0 misses the readings of GAP+1h … GAP+5h
GLITCH = T0 + timedelta(days=24, hours=7, minutes=30)  # a backwards reading of series 2, sent late


def value(k: int, t: datetime) -> float:
    """Series k's counter [m³]: (k + 1) × 0.01 m³ every hour, linear."""
    return round(100 + (t - T0) / timedelta(hours=1) * (k + 1) * 0.01, 6)


def _meter(k: int) -> str:
    return f"CMP-{k}"


@pytest.fixture(scope="module")
def compressed(db_url: str, storage_path) -> Iterator[str]:
    """Nine weeks of hourly reads of 20 water meters, rolled up, then every chunk compressed."""
    if storage_path.value != "timescaledb":
        pytest.skip(f"needs TimescaleDB's compression; this database is on {storage_path}")
    with connect(db_url) as conn:
        for k in range(SERIES):
            register_meter(
                conn, MeterInfo(MeterKind.COLD_WATER, "CMP", str(k), registers=(RegisterInfo("water_m3"),))
            )
        w = ReadingWriter(conn, clock=lambda: NOW)
        gap = {GAP + timedelta(hours=i) for i in range(1, 6)}
        for week in range(0, DAYS, 7):
            hours = [T0 + timedelta(hours=h) for h in range(week * 24, min(DAYS, week + 7) * 24)]
            w.write(
                [
                    Reading(_meter(k), "water_m3", t, value(k, t))
                    for k in range(SERIES)
                    for t in hours
                    if not (k == 0 and t in gap)
                ]
            )
        process_dirty(conn)
        conn.commit()
        conn.autocommit = True
        compress_all(conn, "readings", "hourly_consumption")
        assert _uncompressed_chunks(conn, "hourly_consumption") == []
    yield db_url


def _uncompressed_chunks(conn, table: str) -> list[str]:
    """Chunks of ``table`` not (or no longer entirely) compressed: status bit 1 off or bit 8 (partial)."""
    rows = conn.execute(
        """
        SELECT c.table_name FROM _timescaledb_catalog.chunk c
        JOIN _timescaledb_catalog.hypertable h ON h.id = c.hypertable_id
        WHERE h.table_name = %s AND NOT c.dropped AND (c.status & 1 = 0 OR c.status & 8 <> 0)
        ORDER BY 1
        """,
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


@pytest.fixture()
def tight(compressed: str) -> Iterator:
    """A connection whose transactions may decompress at most LIMIT rows (the table holds 30 k hours)."""
    with decompression_limited(compressed, LIMIT) as conn:
        yield conn


def _hours(conn, k: int, start: datetime, end: datetime) -> list[tuple[datetime, int, int]]:
    return conn.execute(
        "SELECT hour, volume_micro, quality FROM hourly_consumption h JOIN meter_registers USING (series_id) "
        "WHERE meter_id = %s AND hour >= %s AND hour < %s ORDER BY hour",
        (_meter(k), start, end),
    ).fetchall()


def test_the_gap_was_interpolated_before_compression(compressed: str) -> None:
    with connect(compressed) as conn:
        rows = _hours(conn, 0, GAP, GAP + timedelta(hours=6))
    assert [(v, q) for _, v, q in rows] == [(10_000, 1)] * 6  # 0.06 m³ over 6 h, spread linearly


def test_backfill_into_compressed_hours_touches_only_its_series_and_chunk(tight) -> None:
    conn = tight
    # the gateway's outbox delivers the missing readings: 0, 0, 0.03, 0.03, 0.06 m³ above GAP's reading
    base = value(0, GAP)
    late = [
        Reading(_meter(0), "water_m3", GAP + timedelta(hours=i + 1), round(base + d, 6))
        for i, d in enumerate([0.0, 0.0, 0.03, 0.03, 0.06])
    ]
    assert ReadingWriter(conn, clock=lambda: NOW).write(late).inserted == 5
    stats = process_dirty(conn)
    assert stats.lifted == 0  # the rollup stayed within the limit: it touched one series' week
    # hours GAP … GAP+5: differences of the readings written, now measured (quality 0)
    rows = _hours(conn, 0, GAP, GAP + timedelta(hours=6))
    assert [(v, q) for _, v, q in rows] == [(0, 0), (0, 0), (30_000, 0), (0, 0), (30_000, 0), (0, 0)]
    # the hours around the gap and the other series are as before: (k + 1) × 10 000 micro-m³ an hour
    assert {(v, q) for _, v, q in _hours(conn, 0, T0 + timedelta(days=14), GAP)} == {(10_000, 0)}
    assert {(v, q) for _, v, q in _hours(conn, 5, T0, T0 + timedelta(days=DAYS))} == {(60_000, 0)}
    # only the hourly chunk of GAP's week (Jan 15–22) took decompressed rows
    chunks = _uncompressed_chunks(conn, "hourly_consumption")
    assert len(chunks) == 1
    (lo, hi) = conn.execute(
        "SELECT range_start, range_end FROM timescaledb_information.chunks WHERE chunk_name = %s",
        (chunks[0],),
    ).fetchone()
    assert lo <= GAP < hi


def test_a_resent_week_into_compressed_readings_changes_nothing(tight) -> None:
    conn = tight
    week = [T0 + timedelta(days=28, hours=h) for h in range(7 * 24)]
    again = [Reading(_meter(k), "water_m3", t, value(k, t)) for k in range(SERIES) for t in week]
    before = _uncompressed_chunks(conn, "readings")
    dead = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
    result = ReadingWriter(conn, clock=lambda: NOW).write(again)
    assert (result.inserted, result.duplicates, result.rejected) == (0, len(again), 0)
    assert conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == dead
    # 3 360 duplicates found without decompressing them into the chunks (which would exceed LIMIT)
    assert _uncompressed_chunks(conn, "readings") == before
    # a changed value for a stored, compressed reading is refused and reported, the stored one kept
    t = week[10]
    changed = ReadingWriter(conn, clock=lambda: NOW).write([Reading(_meter(3), "water_m3", t, 1.0)])
    assert changed.reasons == {"conflicting_value": 1}
    stored = conn.execute(
        "SELECT value FROM reading_values JOIN meter_registers USING (series_id) "
        "WHERE meter_id = %s AND ts = %s",
        (_meter(3), t),
    ).fetchone()[0]
    assert stored == value(3, t)
    assert process_dirty(conn).series == 0  # nothing new to roll up


def test_a_late_backwards_reading_in_compressed_data_is_flagged(tight) -> None:
    conn = tight
    before = _hours(conn, 2, GLITCH - timedelta(hours=3), GLITCH + timedelta(hours=3))
    glitch = Reading(_meter(2), "water_m3", GLITCH, value(2, GLITCH) - 5.0)  # 5 m³ backwards
    assert ReadingWriter(conn, clock=lambda: NOW).write([glitch]).inserted == 1
    stats = process_dirty(conn)
    assert stats.lifted == 0 and stats.flags >= 1
    flag = conn.execute(
        "SELECT reason FROM reading_flags f JOIN meter_registers USING (series_id) WHERE meter_id = %s "
        "AND ts = %s",
        (_meter(2), GLITCH),
    ).fetchone()
    assert flag == ("backwards",)
    # the flagged reading is left out: the hours are the meter's 0.03 m³ an hour, measured, as before
    after = _hours(conn, 2, GLITCH - timedelta(hours=3), GLITCH + timedelta(hours=3))
    assert after == before and {(v, q) for _, v, q in after} == {(30_000, 0)}


def test_a_full_rebuild_over_compressed_hours_lifts_the_limit_on_purpose(tight) -> None:
    conn = tight
    expected = conn.execute(
        "SELECT series_id, hour, volume_micro, quality FROM hourly_consumption ORDER BY 1, 2"
    ).fetchall()
    stats = rebuild(conn)  # every hour of every series: far more than LIMIT decompressed rows
    assert stats.lifted >= 1 and stats.series == SERIES
    assert (
        conn.execute(
            "SELECT series_id, hour, volume_micro, quality FROM hourly_consumption ORDER BY 1, 2"
        ).fetchall()
        == expected
    )
    # the limit is back for everything else in the session
    limit = conn.execute("SHOW timescaledb.max_tuples_decompressed_per_dml_transaction").fetchone()[0]
    assert int(limit) == LIMIT


def test_a_large_backfill_into_compressed_hours_is_done_with_the_limit_lifted(tight) -> None:
    """History imported after the compression horizon: more decompression than the limit allows for one
    batch; the rollup says so and recomputes that batch with the limit lifted, instead of failing."""
    conn = tight
    # 20 series, a reading at the half hour of every hour of weeks 1–3: the hours stay the same
    late = [
        Reading(_meter(k), "water_m3", t, value(k, t))
        for k in range(SERIES)
        for t in (T0 + timedelta(hours=h, minutes=30) for h in range(7 * 24, 21 * 24))
    ]
    expected = _hours(conn, 7, T0, T0 + timedelta(days=DAYS))
    assert ReadingWriter(conn, clock=lambda: NOW).write(late).inserted == len(late)
    stats = process_dirty(conn)
    assert stats.lifted == 1 and stats.series == SERIES
    assert _hours(conn, 7, T0, T0 + timedelta(days=DAYS)) == expected


def test_the_daily_series_follows_the_hours_over_compressed_chunks(compressed: str) -> None:
    """After the backfills, the late glitch and the rebuild above: every UTC day (these meters have no
    registered building) is the sum of its hours, computed here from the hourly rows."""
    with connect(compressed) as conn:
        expected: dict[tuple[int, object], list[int]] = {}
        for sid, hour, vol, q in conn.execute(
            "SELECT series_id, hour, volume_micro, quality FROM hourly_consumption"
        ):
            row = expected.setdefault((sid, hour.astimezone(UTC).date()), [0, 0, 0, 0, 0, 0])
            row[1 if q == 3 else 0] += vol
            row[2 + q] += 1
        daily = {
            (r[0], r[1]): list(r[2:])
            for r in conn.execute(
                "SELECT series_id, day, volume_micro, suspect_micro, measured_hours, interpolated_hours, "
                "estimated_hours, suspect_hours FROM daily_consumption"
            )
        }
    assert len(daily) == SERIES * DAYS
    assert daily == expected


def test_db_status_counts_compressed_rows_and_reports_compression(compressed: str) -> None:
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.schema import database_status

    with connect(compressed) as conn:
        exact = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
        hours = conn.execute("SELECT count(*) FROM hourly_consumption").fetchone()[0]
        st = database_status(conn, MIGRATION_SOURCES)
        assert st.storage_path is not None and st.storage_path.value == "timescaledb"
        # the estimate counts the rows inside compressed chunks (reltuples saw only a few thousand)
        assert abs(st.table_rows["readings"] - exact) <= exact * 0.02
        assert abs(st.table_rows["hourly_consumption"] - hours) <= hours * 0.02
        assert database_status(conn, MIGRATION_SOURCES, exact=True).table_rows["readings"] == exact
        chunks = conn.execute("SELECT count(*) FROM show_chunks('readings')").fetchone()[0]
    by_table = {s.table: s for s in st.storage}
    r = by_table["readings"]
    assert r.compressed_chunks == r.chunks == chunks > 1
    assert r.compression_ratio and r.compression_ratio > 1  # tiny chunks: page overhead dominates
    assert [j.proc for j in st.jobs].count("policy_compression") == 2
