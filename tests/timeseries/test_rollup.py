"""Hourly rollup against a real PostgreSQL: from-scratch build, incremental backfill, VEE flags."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.intervals import EventKind
from meterhub.timeseries.meters import (
    MeterInfo,
    RegisterInfo,
    record_event,
    record_replacement,
    register_meter,
)
from meterhub.timeseries.rollup import process_dirty, rebuild

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

T0 = datetime(2026, 2, 1, tzinfo=UTC)
NOW = datetime(2026, 4, 1, tzinfo=UTC)


def writer(conn) -> ReadingWriter:
    return ReadingWriter(conn, clock=lambda: NOW)


def hourly(conn, meter_id, register="water_m3"):
    return conn.execute(
        "SELECT hour, volume_micro, quality FROM hourly_consumption h JOIN meter_registers USING (series_id) "
        "WHERE meter_id = %s AND register = %s ORDER BY hour",
        (meter_id, register),
    ).fetchall()


def water_meter(conn, serial: str, digits: int | None = 5) -> str:
    m = MeterInfo(
        MeterKind.COLD_WATER, "TST", serial, register_digits=digits, registers=(RegisterInfo("water_m3"),)
    )
    register_meter(conn, m)
    return m.meter_id


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_build_from_quarter_hour_reads(conn):
    mid = water_meter(conn, "1")
    w = writer(conn)
    w.write([Reading(mid, "water_m3", at(i / 4), 10 + i * 0.01) for i in range(4 * 6 + 1)])
    stats = process_dirty(conn)
    assert stats.series == 1 and stats.hours_written == 6
    rows = hourly(conn, mid)
    assert [r[1] for r in rows] == [40_000] * 6  # 4 reads × 0.01 m³ = 0.04 m³ = 40 000 ml... in micro-m³
    assert {r[2] for r in rows} == {0}
    assert conn.execute("SELECT count(*) FROM series_dirty").fetchone()[0] == 0


def test_late_reads_backfill_only_the_gap_and_match_a_full_rebuild(conn):
    mid = water_meter(conn, "2")
    w = writer(conn)
    early = [Reading(mid, "water_m3", at(i / 4), 100 + i * 0.02) for i in range(0, 13)]  # 00:00–03:00
    late_part = [
        Reading(mid, "water_m3", at(i / 4), 100 + i * 0.02 + (0.05 if i > 20 else 0)) for i in range(13, 29)
    ]
    after = [Reading(mid, "water_m3", at(i / 4), 100 + i * 0.02 + 0.05) for i in range(29, 41)]  # 07:15–10:00
    w.write(early + after)
    process_dirty(conn)
    gap = {r[0]: r for r in hourly(conn, mid)}
    assert gap[at(4)][2] == 1  # interpolated across the gap 03:00–07:15
    w.write(late_part)
    stats = process_dirty(conn)
    assert stats.series == 1
    assert stats.readings < 41  # only the affected span was read back, not the whole series
    incremental = hourly(conn, mid)
    assert {r[2] for r in incremental} == {0}  # all measured now
    assert sum(r[1] for r in incremental) == round((after[-1].value - early[0].value) * 1e6)
    sid = conn.execute("SELECT series_id FROM meter_registers WHERE meter_id = %s", (mid,)).fetchone()[0]
    rebuild(conn, [sid])
    assert hourly(conn, mid) == incremental


def test_backwards_reading_is_flagged_excluded_and_visible(conn):
    mid = water_meter(conn, "3")
    w = writer(conn)
    w.write([Reading(mid, "water_m3", at(h), v) for h, v in [(0, 50.0), (1, 51.0), (2, 20.0), (3, 52.0)]])
    process_dirty(conn)
    flags = conn.execute(
        "SELECT ts, reason FROM reading_flags JOIN meter_registers USING (series_id) WHERE meter_id = %s",
        (mid,),
    ).fetchall()
    assert flags == [(at(2), "backwards")]
    rows = hourly(conn, mid)
    assert [r[1] for r in rows] == [1_000_000, 500_000, 500_000]  # 51 → 52 split over hours 1 and 2
    flagged = conn.execute(
        "SELECT vee_flag FROM readings_named WHERE meter_id = %s AND ts = %s", (mid, at(2))
    )
    assert flagged.fetchone()[0] == "backwards"


def test_recorded_reset_event_turns_suspect_into_valid(conn):
    mid = water_meter(conn, "4", digits=None)
    w = writer(conn)
    w.write(
        [Reading(mid, "water_m3", at(h), v) for h, v in [(0, 80.0), (1, 81.0), (2, 0.2), (3, 1.2), (4, 2.2)]]
    )
    process_dirty(conn)
    assert {r[2] for r in hourly(conn, mid)} == {0, 3}  # measured, then suspect hours
    record_event(conn, mid, "water_m3", at(1.5), EventKind.RESET, value_before=81.5, value_after=0.0)
    conn.commit()
    process_dirty(conn)
    rows = hourly(conn, mid)
    assert {r[2] for r in rows} == {0}
    # 80→81 | 81→81.5 + 0→0.2 | 0.2→1.2 | 1.2→2.2
    assert [r[1] for r in rows] == [1_000_000, 700_000, 1_000_000, 1_000_000]
    assert (
        conn.execute(
            "SELECT count(*) FROM reading_flags JOIN meter_registers USING (series_id) WHERE meter_id = %s",
            (mid,),
        ).fetchone()[0]
        == 0
    )


def test_replacement_never_gives_a_negative_volume(conn):
    old = water_meter(conn, "5")
    w = writer(conn)
    w.write([Reading(old, "water_m3", at(h), 300.0 + h) for h in range(0, 4)])
    new = MeterInfo(
        MeterKind.COLD_WATER, "TST", "6", register_digits=5, registers=(RegisterInfo("water_m3"),)
    )
    record_replacement(
        conn, old, new, at(3.5), final_values={"water_m3": 303.4}, initial_values={"water_m3": 0.01}
    )
    conn.commit()
    w.write([Reading(new.meter_id, "water_m3", at(h), 0.01 + (h - 3.5)) for h in (4.5, 5.5)])
    process_dirty(conn)
    assert [r[1] for r in hourly(conn, old)] == [1_000_000, 1_000_000, 1_000_000, 400_000]
    assert [r[1] for r in hourly(conn, new.meter_id)] == [500_000, 1_000_000, 500_000]
    assert conn.execute("SELECT min(volume_micro) FROM hourly_consumption").fetchone()[0] >= 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_late_batches_equal_a_full_rebuild(conn, seed):
    rnd = random.Random(seed)
    mid = water_meter(conn, f"r{seed}")
    ts = sorted(rnd.sample(range(0, 72 * 60, 5), 300))
    value, reads = 1000.0, []
    for t in ts:
        value += rnd.choice([0, 0, 0.001, 0.01, 0.03])
        reads.append(Reading(mid, "water_m3", at(t / 60), round(value, 3)))
    rnd.shuffle(reads)
    w = writer(conn)
    for i in range(0, len(reads), 37):
        w.write(reads[i : i + 37])
        process_dirty(conn)
    incremental = hourly(conn, mid)
    sid = conn.execute("SELECT series_id FROM meter_registers WHERE meter_id = %s", (mid,)).fetchone()[0]
    rebuild(conn, [sid])
    assert hourly(conn, mid) == incremental
