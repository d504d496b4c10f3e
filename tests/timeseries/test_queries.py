"""Read queries in local time zones: series buckets, billing-period totals, completeness."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from meterhub.core import MeterKind, Reading
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.meters import MeterInfo, RegisterInfo, register_meter
from meterhub.timeseries.queries import (
    completeness,
    consumption_series,
    local_month_bounds,
    parse_period,
    period_totals,
)
from meterhub.timeseries.rollup import process_dirty

pytestmark = [pytest.mark.db, pytest.mark.storage, pytest.mark.pg_versions]

START = datetime(2026, 1, 30, tzinfo=UTC)


@pytest.fixture(scope="module", autouse=True)
def data(db_url):
    """Meter E-1: hourly reads 2026-01-30 00:00Z .. 2026-02-03 00:00Z, 1 kWh each UTC hour h of the day
    → hour h consumes (h + 1) kWh, so every UTC day sums to 1 + 2 + ... + 24 = 300 kWh."""
    from meterhub.timeseries.database import connect

    with connect(db_url) as c:
        register_meter(
            c,
            MeterInfo(
                MeterKind.ELECTRICITY,
                "E",
                "1",
                building_id="B",
                registers=(RegisterInfo("energy_import_kwh"),),
            ),
        )
        value, reads = 1000.0, [Reading("E-1", "energy_import_kwh", START, 1000.0)]
        for i in range(1, 4 * 24 + 1):
            ts = START + timedelta(hours=i)
            value += (ts - timedelta(hours=1)).hour + 1
            reads.append(Reading("E-1", "energy_import_kwh", ts, value))
        ReadingWriter(c, clock=lambda: datetime(2026, 3, 1, tzinfo=UTC)).write(reads)
        process_dirty(c)
        c.commit()


def test_local_month_bounds_in_omsk_and_moscow():
    assert local_month_bounds(2026, 2, "Asia/Omsk") == (
        datetime(2026, 1, 31, 18, tzinfo=UTC),
        datetime(2026, 2, 28, 18, tzinfo=UTC),
    )
    start, end = local_month_bounds(2026, 12, "Europe/Moscow")
    assert start == datetime(2026, 11, 30, 21, tzinfo=UTC) and end == datetime(2026, 12, 31, 21, tzinfo=UTC)
    with pytest.raises(ValueError, match="IANA"):
        local_month_bounds(2026, 1, "Mars/Base")
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period("2026-13")


def test_period_totals_follow_the_buildings_time_zone(conn):
    # February in Omsk starts 2026-01-31 18:00Z. Data ends 2026-02-03 00:00Z.
    # Jan 31 UTC hours 18..23 consume 19+20+21+22+23+24 = 129; Feb 1 and Feb 2 UTC: 300 each.
    start, end = local_month_bounds(2026, 2, "Asia/Omsk")
    t = period_totals(conn, start, end, building_id="B")[("E-1", "energy_import_kwh")]
    assert t.volume == Decimal(129 + 300 + 300)
    assert t.hours_present == 6 + 48 and t.hours_expected == 28 * 24 and not t.complete
    # February in Moscow starts 2026-01-31 21:00Z: hours 21..23 → 22+23+24 = 69
    start, end = local_month_bounds(2026, 2, "Europe/Moscow")
    assert period_totals(conn, start, end, meter_ids=["E-1"])[("E-1", "energy_import_kwh")].volume == 69 + 600


def test_daily_series_in_local_time(conn):
    omsk = ZoneInfo("Asia/Omsk")
    pts = consumption_series(
        conn,
        "E-1",
        "energy_import_kwh",
        datetime(2026, 1, 31, tzinfo=omsk),
        datetime(2026, 2, 2, tzinfo=omsk),
        resolution="day",
        tz="Asia/Omsk",
    )
    # local Jan 31 = UTC Jan 30 18:00 .. Jan 31 18:00 → hours 18..23 (129) + hours 0..17 (1+..+18 = 171) = 300
    assert [(p.start, p.volume) for p in pts] == [
        (datetime(2026, 1, 31, tzinfo=omsk), Decimal(300)),
        (datetime(2026, 2, 1, tzinfo=omsk), Decimal(300)),
    ]
    assert pts[0].measured_hours == 24 and pts[0].quality == "measured"
    hourly = consumption_series(conn, "E-1", "energy_import_kwh", START, START + timedelta(hours=3), tz="UTC")
    assert [p.volume for p in hourly] == [1, 2, 3]
    monthly = consumption_series(
        conn,
        "E-1",
        "energy_import_kwh",
        START,
        START + timedelta(days=10),
        resolution="month",
        tz="Asia/Omsk",
    )
    # local January: UTC Jan 30 00:00 .. Jan 31 18:00 = 300 + 171; local February: the rest, 129 + 600
    assert [(p.start.month, p.volume) for p in monthly] == [(1, Decimal(471)), (2, Decimal(729))]


def test_completeness_per_local_day(conn):
    rows = completeness(conn, date(2026, 2, 2), date(2026, 2, 4), "Europe/Moscow", building_id="B")
    by_day = {r.day: r for r in rows}
    # Moscow Feb 2 = UTC Feb 1 21:00 .. Feb 2 21:00: all 24 hours present
    assert by_day[date(2026, 2, 2)].percent == 100.0
    # Moscow Feb 3 = UTC Feb 2 21:00 .. Feb 3 21:00: data ends Feb 3 00:00Z → 3 hours
    assert by_day[date(2026, 2, 3)].hours_present == 3
    assert by_day[date(2026, 2, 4)].hours_present == 0 and by_day[date(2026, 2, 4)].hours_expected == 24
