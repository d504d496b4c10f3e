"""Retention of raw readings (``meterhub db retention``) on both storage paths: what the hourly series
and open billing periods need stays, the rest goes in whole chunks / partitions, and the rollup never
rewrites hours computed from dropped readings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.retention import apply_retention, retention_horizon, retention_plan
from meterhub.timeseries.rollup import process_dirty, rebuild

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

T0 = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 5, 1, tzinfo=UTC)
NOW = datetime(2026, 5, 15, tzinfo=UTC)
KEEP = timedelta(days=60)  # now − 60 days = 16 March
METER = "RET-1"


def _value(t: datetime) -> float:
    return round(500 + (t - T0) / timedelta(hours=1) * 0.01, 3)  # 10 litres an hour


def _hours(conn) -> list[tuple[datetime, int, int]]:
    return conn.execute(
        "SELECT hour, volume_micro, quality FROM hourly_consumption JOIN meter_registers USING (series_id) "
        "WHERE meter_id = %s ORDER BY hour",
        (METER,),
    ).fetchall()


def _close(conn, *periods: str) -> None:
    for p in periods:
        conn.execute(
            "INSERT INTO billing_periods (building_id, period, status, computed_at, closed_at) "
            "VALUES ('B-RET', %s, 'closed', now(), now()) "
            "ON CONFLICT (building_id, period) DO UPDATE SET status = 'closed', closed_at = now()",
            (p,),
        )


@pytest.fixture(scope="module")
def loaded(db_url: str) -> str:
    from meterhub.timeseries.database import connect

    with connect(db_url) as conn:
        conn.execute(
            "INSERT INTO buildings (building_id, address, time_zone, total_area, common_area, "
            "management_method) VALUES ('B-RET', 'ул. Архивная, 1', 'Europe/Moscow', 1000, 100, 'hoa')"
        )
        register_meter(
            conn,
            MeterInfo(
                MeterKind.COLD_WATER, "RET", "1", building_id="B-RET", registers=(RegisterInfo("water_m3"),)
            ),
        )
        conn.commit()
        hours = int((END - T0) / timedelta(hours=1))
        gap = {T0 + timedelta(days=75, hours=h) for h in range(1, 4)}  # 17 March 01:00–03:00 arrive late
        ReadingWriter(conn, clock=lambda: NOW).write(
            [
                Reading(METER, "water_m3", t, _value(t))
                for t in (T0 + timedelta(hours=h) for h in range(hours + 1))
                if t not in gap
            ]
        )
        process_dirty(conn)
        conn.commit()
    return db_url


def test_open_periods_keep_their_readings(loaded: str, conn) -> None:
    _close(conn, "2026-01", "2026-02")  # March is open: it needs February's readings (and January's end)
    plan = retention_plan(conn, KEEP, NOW)
    assert plan.requested == datetime(2026, 3, 16, tzinfo=UTC)
    assert plan.cutoff == datetime(2025, 12, 31, tzinfo=UTC)  # 1 January (the month before February) − 1 day
    assert "B-RET" in plan.bound_by and "2026-02" in plan.bound_by
    res = apply_retention(conn, KEEP, NOW)
    conn.commit()
    assert res.dropped == [] and retention_horizon(conn) is None
    # pending rollup work keeps its readings too (31 days before the earliest pending time)
    conn.execute(
        "INSERT INTO series_dirty_log (series_ids, from_ts, to_ts) "
        "SELECT ARRAY[series_id], '2026-01-20', '2026-01-20' FROM meter_registers WHERE meter_id = %s",
        (METER,),
    )
    plan = retention_plan(conn, timedelta(days=1), NOW)
    assert plan.cutoff == datetime(2025, 12, 20, tzinfo=UTC) and "rollup" in plan.bound_by
    conn.rollback()


def test_closed_periods_let_old_readings_go_and_the_hours_stay(loaded: str, conn) -> None:
    before = _hours(conn)
    assert len(before) == 24 * 120 and {(v, q) for _, v, q in before} == {(10_000, 0), (10_000, 1)}
    _close(conn, "2026-03", "2026-04")  # May is open: readings from 1 March on (− 1 day) are needed
    res = apply_retention(conn, KEEP, NOW)
    conn.commit()
    assert res.plan.cutoff == datetime(2026, 2, 28, tzinfo=UTC)
    assert res.dropped and res.dropped_before is not None
    assert T0 < res.dropped_before <= datetime(2026, 2, 28, tzinfo=UTC)
    assert retention_horizon(conn) == res.dropped_before
    first = conn.execute(
        "SELECT min(ts) FROM readings JOIN meter_registers USING (series_id) WHERE meter_id = %s", (METER,)
    ).fetchone()[0]
    assert first == res.dropped_before  # hourly reads: the first reading of the first chunk kept
    # every reading from the cutoff on is still there, with its value
    kept = conn.execute(
        "SELECT ts, value FROM reading_values JOIN meter_registers USING (series_id) "
        "WHERE meter_id = %s AND ts >= '2026-02-28' ORDER BY ts",
        (METER,),
    ).fetchall()
    assert kept[0] == (datetime(2026, 2, 28, tzinfo=UTC), _value(datetime(2026, 2, 28, tzinfo=UTC)))
    assert all(v == _value(t) for t, v in kept)
    # the hourly series is never dropped
    assert _hours(conn) == before


def test_a_rebuild_after_retention_keeps_the_hours_of_dropped_readings(loaded: str, conn) -> None:
    before = _hours(conn)
    stats = rebuild(conn)
    assert stats.series == 1
    assert _hours(conn) == before  # not one hour lost before the first remaining reading
    # the late readings of the March gap arrive: the hours become measured, the rest as before
    gap = [T0 + timedelta(days=75, hours=h) for h in range(1, 4)]
    assert (
        ReadingWriter(conn, clock=lambda: NOW)
        .write([Reading(METER, "water_m3", t, _value(t)) for t in gap])
        .inserted
        == 3
    )
    process_dirty(conn)
    conn.commit()
    after = _hours(conn)
    assert len(after) == len(before)
    assert {(v, q) for _, v, q in after} == {(10_000, 0)}  # the gap's interpolated hours now measured
    # a reading older than the kept ones (an outbox from January) changes no hour either
    old = T0 + timedelta(days=10, minutes=30)
    ReadingWriter(conn, clock=lambda: NOW).write([Reading(METER, "water_m3", old, _value(old))])
    process_dirty(conn)
    conn.commit()
    assert _hours(conn) == after


def test_the_command_says_what_it_would_drop_and_why(loaded: str) -> None:
    import os
    import subprocess
    import sys

    cli = [sys.executable, "-m", "meterhub.cli", "db", "retention", "--dry-run"]
    env = {k: v for k, v in os.environ.items() if k != "METERHUB_READINGS_RETENTION_DAYS"}
    env["METERHUB_DATABASE_URL"] = loaded
    out = subprocess.run(cli, env=env, capture_output=True, text=True, check=True)
    assert "not set: readings are kept for ever" in out.stdout
    env["METERHUB_READINGS_RETENTION_DAYS"] = "60"
    out = subprocess.run(cli, env=env, capture_output=True, text=True, check=True)
    # May is the open period: the building bounds the cutoff; the late January reading's chunk/partition
    # (made again by the ingest) is what would go
    assert "keep readings from 2026-02-28T00:00:00+00:00 (bound by building B-RET" in out.stdout
    assert "would drop 1 chunk(s)/partition(s)" in out.stdout
