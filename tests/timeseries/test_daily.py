"""The daily series (``daily_consumption``) kept by the rollup, on both storage paths.

Expected daily rows are computed here from the hourly rows the rollup wrote, grouped by the local day
with ``zoneinfo`` (an independent computation), and for a few days also by hand from the readings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.rollup import process_dirty, rebuild

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = datetime(2026, 5, 1, tzinfo=UTC)
OMSK = "Asia/Omsk"  # UTC+6: a local day is 18:00–18:00 UTC


def _writer(conn) -> ReadingWriter:
    return ReadingWriter(conn, clock=lambda: NOW)


def _meter(conn, serial: str, building: str | None) -> str:
    m = MeterInfo(
        MeterKind.COLD_WATER, "DAY", serial, building_id=building, registers=(RegisterInfo("water_m3"),)
    )
    register_meter(conn, m)
    return m.meter_id


def _building(conn, building_id: str, tz: str) -> None:
    conn.execute(
        "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, management_method) "
        "VALUES (%s, 'ул. Тестовая, 1', %s, 1000, 100, 'management_company')",
        (building_id, tz),
    )


def _expected(conn, meter_id: str, tz: str) -> dict[date, tuple[int, int, int, int, int, int]]:
    """Daily rows from the hourly rows, grouped by the local day of each hour's start in ``tz``."""
    zone = ZoneInfo(tz)
    out: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for hour, vol, q in conn.execute(
        "SELECT hour, volume_micro, quality FROM hourly_consumption JOIN meter_registers USING (series_id) "
        "WHERE meter_id = %s",
        (meter_id,),
    ):
        row = out[hour.astimezone(zone).date()]
        row[1 if q == 3 else 0] += vol
        row[2 + q] += 1
    return {d: tuple(r) for d, r in out.items()}  # type: ignore[misc]


def _daily(conn, meter_id: str) -> dict[date, tuple[int, int, int, int, int, int]]:
    rows = conn.execute(
        "SELECT day, volume_micro, suspect_micro, measured_hours, interpolated_hours, estimated_hours, "
        "suspect_hours FROM daily_consumption JOIN meter_registers USING (series_id) WHERE meter_id = %s",
        (meter_id,),
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _hourly_reads(meter_id: str, start: datetime, hours: int, base: float, skip=()) -> list[Reading]:
    """Hourly reads at :00, +0.010 m³ in an hour of the night (starting at Omsk's 0–5 h), else +0.025 m³."""
    out, v = [], base
    for h in range(hours + 1):
        t = start + timedelta(hours=h)
        if h:
            v += 0.010 if (t.hour - 1 + 6) % 24 < 6 else 0.025
        if h not in skip:
            out.append(Reading(meter_id, "water_m3", t, round(v, 3)))
    return out


def test_daily_rows_are_the_local_days_of_the_hours(conn) -> None:
    _building(conn, "B-OMSK", OMSK)
    omsk = _meter(conn, "1", "B-OMSK")
    utc = _meter(conn, "2", None)  # no registered building: UTC days
    conn.commit()
    w = _writer(conn)
    w.write(_hourly_reads(omsk, T0, 24 * 10, 100.0, skip=range(50, 60)))
    w.write(_hourly_reads(utc, T0, 24 * 10, 5.0))
    stats = process_dirty(conn)
    conn.commit()
    assert stats.days_written > 0
    assert _daily(conn, omsk) == _expected(conn, omsk, OMSK)
    assert _daily(conn, utc) == _expected(conn, utc, "UTC")
    # by hand: local 2 March in Omsk is 1 Mar 18:00 – 2 Mar 18:00 UTC, 24 measured hours: 6 night hours
    # of 0.010 m³ and 18 of 0.025 m³ = 0.51 m³
    assert _daily(conn, omsk)[date(2026, 3, 2)] == (510_000, 0, 24, 0, 0, 0)
    # the first local day (1 March) starts 18 h before T0's data: its hours from T0 are 00:00–18:00 UTC
    # = 06:00–24:00 local, 18 day hours of 0.025 m³
    assert _daily(conn, omsk)[date(2026, 3, 1)] == (450_000, 0, 18, 0, 0, 0)
    # UTC day 2 March: UTC 00–24 = local 06–06: hours at local 00–06 are 18:00–24:00 UTC → 6 night hours
    assert _daily(conn, utc)[date(2026, 3, 2)] == (510_000, 0, 24, 0, 0, 0)
    # the gap (hours 50–59 missing) made interpolated hours on 3 March (UTC 02:00–12:00 = local 08–18)
    gap_day = _daily(conn, omsk)[date(2026, 3, 3)]
    assert gap_day[2] == 13 and gap_day[3] == 11  # measured, interpolated: 11 hours span the gap


def test_backfill_recomputes_the_days_it_touches(conn) -> None:
    omsk = "DAY-1"
    before = _daily(conn, omsk)
    # the missing readings arrive late
    late = [r for r in _hourly_reads(omsk, T0, 24 * 10, 100.0) if 50 <= (r.ts - T0) / timedelta(hours=1) < 60]
    assert _writer(conn).write(late).inserted == 10
    process_dirty(conn)
    conn.commit()
    after = _daily(conn, omsk)
    assert after == _expected(conn, omsk, OMSK)
    assert after[date(2026, 3, 3)] == (before[date(2026, 3, 3)][0], 0, 24, 0, 0, 0)  # all measured now
    assert {d: r for d, r in after.items() if d != date(2026, 3, 3)} == {
        d: r for d, r in before.items() if d != date(2026, 3, 3)
    }
    # later data extends the series: the last day grows and a new day appears
    more = _hourly_reads(omsk, T0, 24 * 12, 100.0)[24 * 10 + 1 :]
    _writer(conn).write(more)
    process_dirty(conn)
    conn.commit()
    assert _daily(conn, omsk) == _expected(conn, omsk, OMSK)
    assert max(_daily(conn, omsk)) == date(2026, 3, 13)


def test_rebuild_and_a_changed_time_zone(conn) -> None:
    omsk, utc = "DAY-1", "DAY-2"
    conn.execute("DELETE FROM daily_consumption")
    rebuild(conn)
    conn.commit()
    assert _daily(conn, omsk) == _expected(conn, omsk, OMSK)
    assert _daily(conn, utc) == _expected(conn, utc, "UTC")
    # the building moves to Moscow time (a data fix): the next rollup re-cuts its days
    conn.execute("UPDATE buildings SET time_zone = 'Europe/Moscow' WHERE building_id = 'B-OMSK'")
    conn.commit()
    process_dirty(conn)
    conn.commit()
    assert _daily(conn, omsk) == _expected(conn, omsk, "Europe/Moscow")
    assert conn.execute(
        "SELECT time_zone FROM daily_volumes WHERE meter_id = %s LIMIT 1", (omsk,)
    ).fetchone() == ("Europe/Moscow",)
    # the second meter's building is registered after its data: its days are re-cut in that zone too
    _building(conn, "B-NSK", "Asia/Novosibirsk")
    conn.execute("UPDATE meters SET building_id = 'B-NSK' WHERE meter_id = %s", (utc,))
    conn.commit()
    process_dirty(conn)
    conn.commit()
    assert _daily(conn, utc) == _expected(conn, utc, "Asia/Novosibirsk")


def test_an_installation_without_daily_rows_gets_them(conn) -> None:
    """What migration 0011 does to an existing database: every series marked unbuilt (zone NULL)."""
    omsk = "DAY-1"
    conn.execute("DELETE FROM daily_consumption")
    conn.execute("UPDATE daily_series_zone SET time_zone = NULL")
    conn.commit()
    stats = process_dirty(conn)
    conn.commit()
    assert stats.days_written > 0
    assert _daily(conn, omsk) == _expected(conn, omsk, "Europe/Moscow")
    # the view shows the volumes as numbers of the register unit
    vol = conn.execute(
        "SELECT volume FROM daily_volumes WHERE meter_id = %s AND day = '2026-03-05'", (omsk,)
    ).fetchone()[0]
    assert vol * 1_000_000 == _daily(conn, omsk)[date(2026, 3, 5)][0]
