"""The close does not read the hours the rollup estimated for meters read monthly.

The rollup spreads a monthly meter's consumption over the hours between its readings as *estimated*
hours (quality 2, docs/timeseries.md): ≈ 744 rows a register and month, which the loader throws away
(such a meter is billed by its register values). The hourly read leaves out the meters whose daily
series (written by the rollup with those hours) shows only estimated hours around the period
(``timeseries.bulk_reads.estimated_only_meters``).

Truth: the small building's monthly readings go through the real rollup (``process_dirty``), so the
estimated hours and daily rows are the producer's; the reference is the same loader reading every
hourly row (``LoaderOptions(skip_estimated_only_meters=False)``): the engine input and the close's
lines must be the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from meterhub.billing.close.loader import LoaderOptions, load_building_input
from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.rules.input_digest import input_digest
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.bulk_reads import (
    Register,
    estimated_only_meters,
    meter_registers_of,
    period_hourly_bulk,
)
from meterhub.timeseries.database import connect
from meterhub.timeseries.rollup import process_dirty
from tests.billing.close_data import MOSCOW, load_small_building, month_bounds, write_reading

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

JANUARY = BillingPeriod(2026, 1)
MONTHLY_ONLY = {"E-HOUSE", "E-2", "W-2"}  # read on 25 Dec and 25 Jan (E-2's T2 three days earlier)


@pytest.fixture(scope="module")
def rolled_up(db_url: str) -> str:
    """The small building; W-1 also read daily on 10–12 January (interpolated hours: telemetry); the
    real rollup run over every reading. E-1's hours are written directly (no readings, no daily rows)."""
    with connect(db_url) as conn:
        load_small_building(conn)
        for day, value in ((10, 12.0), (11, 12.2), (12, 12.5)):
            write_reading(conn, "W-1", "water_m3", datetime(2026, 1, day, 12, tzinfo=MOSCOW), value)
        conn.commit()
        process_dirty(conn)
        conn.commit()
    return db_url


def _registers(conn: psycopg.Connection) -> list[Register]:
    meters = [
        r[0] for r in conn.execute("SELECT DISTINCT meter_id FROM meter_links WHERE building_id = 'B1'")
    ]
    return meter_registers_of(conn, meters)


def test_the_rollup_estimated_hours_of_monthly_meters_and_the_read_leaves_them_out(rolled_up: str) -> None:
    start, end = month_bounds(2026, 1)
    with connect(rolled_up) as conn:
        registers = _registers(conn)
        meters = sorted({r.meter_id for r in registers})
        every = period_hourly_bulk(conn, meters, start, end, registers=registers)
        skipping = period_hourly_bulk(conn, meters, start, end, registers=registers, skip_estimated_only=True)
    # not vacuous: the monthly meters do have hourly rows in January, all of them estimated
    for meter in MONTHLY_ONLY:
        mine = [t for (m, _), t in every.totals.items() if m == meter]
        assert mine and all(t.estimated_hours > 0 for t in mine), meter
        assert all(t.measured_hours == t.interpolated_hours == t.suspect_hours == 0 for t in mine), meter
    assert every.totals[("W-1", "water_m3")].interpolated_hours > 0  # the daily readings of 10–12 Jan
    assert skipping.estimated_only == frozenset(MONTHLY_ONLY)
    kept = {k: t for k, t in every.totals.items() if k[0] not in MONTHLY_ONLY}
    assert skipping.totals == kept
    assert {k: (a.hour_starts_us.tolist(), a.volume_micro.tolist()) for k, a in skipping.series.items()} == {
        k: (a.hour_starts_us.tolist(), a.volume_micro.tolist())
        for k, a in every.series.items()
        if k[0] not in MONTHLY_ONLY
    }


def test_the_engine_input_and_the_lines_are_those_of_the_full_read(rolled_up: str) -> None:
    reference = CloseOptions(loader=LoaderOptions(skip_estimated_only_meters=False))
    with connect(rolled_up) as conn:
        fast = load_building_input(conn, "B1", JANUARY)
        full = load_building_input(conn, "B1", JANUARY, reference.loader)
        assert input_digest(fast.input) == input_digest(full.input)
        conn.rollback()
        lines = []
        for options in (CloseOptions(), reference):
            close_building(conn, "B1", JANUARY, options)
            lines.append(
                conn.execute(
                    "SELECT account_no, service, kind, zone, part_start, volume, amount, method, formula "
                    "FROM charge_lines WHERE building_id = 'B1' AND period = '2026-01' ORDER BY 1, 2, 3, 4, 5"
                ).fetchall()
            )
        assert lines[0] and lines[0] == lines[1]


# --- the check itself, on daily rows written by hand (series ids no meter uses) ---------------------------

SPAN = (
    datetime(2026, 3, 1, tzinfo=UTC) - timedelta(hours=5),
    datetime(2026, 4, 1, tzinfo=UTC) - timedelta(hours=5),
)
"""March in UTC+5 (Asia/Yekaterinburg): 28 Feb 19:00 UTC to 31 Mar 19:00 UTC. UTC days 28 Feb … 31 Mar,
so the days looked at are 27 Feb … 1 Apr."""


def _daily(conn: psycopg.Connection, sid: int, day: date, measured: int, estimated: int) -> None:
    conn.execute(
        "INSERT INTO daily_consumption (series_id, day, volume_micro, suspect_micro, measured_hours, "
        "interpolated_hours, estimated_hours, suspect_hours) VALUES (%s, %s, 0, 0, %s, 0, %s, 0)",
        (sid, day, measured, estimated),
    )


@pytest.mark.parametrize(
    ("rows", "skipped"),
    [
        ([(date(2026, 3, 10), 0, 24)], True),  # estimated hours only
        (
            [(date(2026, 3, 10), 0, 24), (date(2026, 2, 27), 3, 21)],
            False,
        ),  # telemetry on the widened first day
        ([(date(2026, 3, 10), 0, 24), (date(2026, 4, 1), 1, 23)], False),  # … on the widened last day
        (
            [(date(2026, 3, 10), 0, 24), (date(2026, 2, 26), 24, 0)],
            True,
        ),  # telemetry outside the days looked at
        ([], False),  # no daily rows: hours written without the rollup, or none — read as before
    ],
)
def test_a_meter_is_left_out_only_when_its_daily_rows_show_estimated_hours_only(
    db_url: str, rows: list[tuple[date, int, int]], skipped: bool
) -> None:
    with connect(db_url) as conn:
        for day, measured, estimated in rows:
            _daily(conn, 990001, day, measured, estimated)
        meter = [Register(990001, "M-X", "water_m3", True)]
        assert estimated_only_meters(conn, meter, *SPAN) == (frozenset({"M-X"}) if skipped else frozenset())
        conn.rollback()


def test_a_meter_stays_in_when_one_of_its_registers_has_no_daily_row(db_url: str) -> None:
    with connect(db_url) as conn:
        _daily(conn, 990011, date(2026, 3, 10), 0, 24)  # T1: estimated only; T2: no daily row at all
        two = [
            Register(990011, "M-T", "energy_import_t1_kwh", True),
            Register(990012, "M-T", "energy_import_t2_kwh", True),
        ]
        assert estimated_only_meters(conn, two, *SPAN) == frozenset()
        assert estimated_only_meters(conn, two[:1], *SPAN) == frozenset({"M-T"})
        conn.rollback()
