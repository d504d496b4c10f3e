"""One month's data of a list of meter links, read the way the close reads meters: hourly totals when a
meter has hourly rows in the period, otherwise its register readings in the readings windows (by the
25th). Shared by the building charts and the heating close (:mod:`meterhub.billing.close.heating.meters`)."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from meterhub.billing.close.loader import READINGS_WINDOW_DAY, readings_window_end
from meterhub.billing.close.repository import MeterLinkRow
from meterhub.billing.rules.meter_data import (
    MeterData,
    RegisterWindow,
    meter_data_from_hourly,
    meter_data_from_registers,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.bulk_reads import meter_registers_of, period_hourly_bulk, register_values_at

__all__ = ["month_meter_data"]


def month_meter_data(
    conn: psycopg.Connection, links: Sequence[MeterLinkRow], period: BillingPeriod, time_zone: str
) -> list[MeterData]:
    """Each link's :class:`MeterData` for ``period`` (in the order of ``links``)."""
    if not links:
        return []
    start, end = period.bounds_utc(time_zone)
    ids = sorted({link.meter_id for link in links})
    registers = meter_registers_of(conn, ids)
    by_meter: dict[str, dict] = {}
    for (meter, register), total in period_hourly_bulk(
        conn, ids, start, end, registers=registers
    ).totals.items():
        by_meter.setdefault(meter, {})[register] = total
    without = [m for m in ids if m not in by_meter]
    day = READINGS_WINDOW_DAY
    window = RegisterWindow(
        start_at=readings_window_end(period.previous(), time_zone, day),
        end_at=readings_window_end(period, time_zone, day),
        start_after=readings_window_end(period.previous().previous(), time_zone, day),
        end_after=readings_window_end(period.previous(), time_zone, day),
    )
    max_age = window.end_at - (window.start_after or window.start_at)
    values: dict[str, dict] = {}
    if without:
        at = [window.start_at, window.end_at]
        for (meter, register), v in register_values_at(
            conn, without, at, max_age=max_age, registers=registers
        ).items():
            values.setdefault(meter, {})[register] = v
    return [
        meter_data_from_hourly(link, by_meter[link.meter_id], period.end_day)
        if link.meter_id in by_meter
        else meter_data_from_registers(link, values.get(link.meter_id, {}), period.end_day, window=window)
        for link in links
    ]
