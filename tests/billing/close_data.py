"""Helpers for the close tests: the small building of tests/data/billing/small and its meter data.

Building B1 (Europe/Moscow, UTC+3 all year): S_об = 150 m², S_ои = 30 m²; premises 1 (50 m²), 2 (60 m²),
3 (40 m², act of technical impossibility); accounts LS-1 (1 resident), LS-2 (3), LS-3 (2, 2 owners).
Meters: E-HOUSE house electricity (register readings), E-1 apartment 1 electricity (hourly series),
E-2 apartment 2 electricity with T1/T2 registers (register readings), W-1 apartment 1 cold water
(register readings), W-2 apartment 2 cold water whose verification was due 2026-01-15.

Register (monthly) readings are taken inside the readings windows (by the 25th, LoaderOptions
``readings_window_day``): the one for January's start on 2025-12-25, for its end on 2026-01-25
(``window_times``), each at 12:00 local time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.imports import import_directory

SMALL = Path(__file__).parent.parent / "data" / "billing" / "small"
MOSCOW = ZoneInfo("Europe/Moscow")


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=MOSCOW)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=MOSCOW)
    return start, end


def window_times(year: int, month: int) -> tuple[datetime, datetime]:
    """Monthly reading times of a period: the 25th 12:00 of the previous month and of this month."""
    prev_year, prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    return (
        datetime(prev_year, prev_month, 25, 12, tzinfo=MOSCOW),
        datetime(year, month, 25, 12, tzinfo=MOSCOW),
    )


def series_id(conn: psycopg.Connection, meter: str, register: str) -> int:
    row = conn.execute(
        "SELECT series_id FROM meter_registers WHERE meter_id = %s AND register = %s", (meter, register)
    ).fetchone()
    assert row is not None
    return int(row[0])


def ensure_partitions(conn: psycopg.Connection) -> None:
    for table in ("readings", "hourly_consumption"):
        conn.execute(
            "SELECT meterhub_ensure_partitions(%s, %s, %s)",
            (table, datetime(2025, 12, 1, tzinfo=MOSCOW), datetime(2026, 6, 1, tzinfo=MOSCOW)),
        )


def write_reading(conn: psycopg.Connection, meter: str, register: str, ts: datetime, value: float) -> None:
    """A reading, logged in ``series_dirty_log`` as readings ingest does (the rollup and the change
    marker of the close both read that log)."""
    sid = series_id(conn, meter, register)
    conn.execute(
        "INSERT INTO readings (series_id, ts, value_int, value_scale, value_float) "
        "SELECT %s, %s, e.* FROM meterhub_encode_value(%s) e "
        "ON CONFLICT (series_id, ts) DO UPDATE SET value_int = EXCLUDED.value_int, "
        "value_scale = EXCLUDED.value_scale, value_float = EXCLUDED.value_float",
        (sid, ts, value),
    )
    conn.execute(
        "INSERT INTO series_dirty_log (series_ids, from_ts, to_ts) VALUES (%s, %s, %s)", ([sid], ts, ts)
    )


def write_hourly(
    conn: psycopg.Connection, meter: str, register: str, start: datetime, end: datetime, micro: int
) -> None:
    """Every UTC hour of [start, end) with ``micro`` micro-units, quality 0 (measured)."""
    conn.execute(
        "INSERT INTO hourly_consumption (series_id, hour, volume_micro, quality) "
        "SELECT %s, h, %s, 0 FROM generate_series(%s::timestamptz, %s::timestamptz - interval '1 hour', "
        "interval '1 hour') h "
        "ON CONFLICT (series_id, hour) DO UPDATE SET volume_micro = EXCLUDED.volume_micro",
        (series_id(conn, meter, register), micro, start, end),
    )


def load_small_building(conn: psycopg.Connection) -> None:
    """Import the domain files and write January 2026 meter data (see the module docstring)."""
    import_directory(conn, SMALL)
    ensure_partitions(conn)
    start, end = month_bounds(2026, 1)
    w_start, w_end = window_times(2026, 1)
    write_reading(conn, "E-HOUSE", "energy_import_kwh", w_start, 0.0)
    write_reading(conn, "E-HOUSE", "energy_import_kwh", w_end, 1000.0)
    write_hourly(conn, "E-1", "energy_import_kwh", start, end, 500_000)  # 0.5 kWh every hour
    write_reading(conn, "E-2", "energy_import_t1_kwh", w_start, 1000.0)
    write_reading(conn, "E-2", "energy_import_t1_kwh", w_end, 1150.5)
    write_reading(conn, "E-2", "energy_import_t2_kwh", w_start - timedelta(days=3), 500.0)
    write_reading(conn, "E-2", "energy_import_t2_kwh", w_end, 580.0)
    write_reading(conn, "W-1", "water_m3", w_start, 10.0)
    write_reading(conn, "W-1", "water_m3", w_end, 16.5)
    write_reading(conn, "W-2", "water_m3", w_start, 1.0)
    write_reading(conn, "W-2", "water_m3", w_end, 2.0)
    conn.commit()
