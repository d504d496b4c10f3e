"""Heat meters' volumes of a month from the time series — the house meter (ОДПУ) and the premises' ИПУ —
read the way the close reads every meter: hourly totals when the meter has hourly rows in the period,
otherwise the register readings in the readings windows (:mod:`meterhub.billing.meter_data`). The
register's unit (``meter_registers.unit``) is converted to Гкал in one place (:mod:`.units`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.heating.units import HeatUnitError, to_gcal
from meterhub.billing.loader import readings_window_end
from meterhub.billing.meter_data import RegisterWindow, meter_data_from_hourly, meter_data_from_registers
from meterhub.billing.periods import BillingPeriod
from meterhub.billing.repository import MeterLinkRow
from meterhub.billing.resident_loaders import READINGS_WINDOW_DAY
from meterhub.timeseries.bulk_reads import period_totals_bulk, register_values_at

__all__ = ["HeatReading", "heat_volumes"]


@dataclass(frozen=True)
class HeatReading:
    """Σ heat of the meters of one place (a premise, or the house: ``premise_no`` None) for a month."""

    premise_no: str | None
    gcal: Decimal | None  # None: some meter of the place has no valid volume
    meters: tuple[str, ...]
    detail: str = ""


def _links(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[MeterLinkRow]:
    rows = conn.execute(
        """
        SELECT l.meter_id, l.premise_no, l.service, m.verification_due, m.multiplier, m.register_digits,
               l.valid_from, l.valid_to
        FROM meter_links l JOIN meters m USING (meter_id)
        WHERE l.building_id = %s AND l.service = 'heat' AND l.valid_from < %s
          AND (l.valid_to IS NULL OR l.valid_to > %s)
        ORDER BY l.premise_no NULLS FIRST, l.meter_id
        """,
        (building_id, period.end_day, period.first_day),
    ).fetchall()
    return [MeterLinkRow(*r) for r in rows]


def heat_volumes(
    conn: psycopg.Connection, building_id: str, time_zone: str, period: BillingPeriod
) -> dict[str | None, HeatReading]:
    """premise (None = house) → the month's heat in Гкал by its heat meters."""
    links = _links(conn, building_id, period)
    if not links:
        return {}
    tz = ZoneInfo(time_zone)
    start, end = period.bounds_utc(tz)
    ids = sorted({link.meter_id for link in links})
    units = dict(
        conn.execute(
            "SELECT meter_id, unit FROM meter_registers WHERE register = 'heat_gcal' AND meter_id = ANY(%s)",
            (ids,),
        ).fetchall()
    )
    by_meter: dict[str, dict] = {}
    for (meter, register), total in period_totals_bulk(conn, ids, start, end).items():
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
        for (meter, register), v in register_values_at(conn, without, [window.start_at, window.end_at],
                                                        max_age=max_age).items():
            values.setdefault(meter, {})[register] = v
    places: dict[str | None, list[MeterLinkRow]] = {}
    for link in links:
        places.setdefault(link.premise_no, []).append(link)
    result: dict[str | None, HeatReading] = {}
    for place, group in places.items():
        total: Decimal | None = Decimal(0)
        problems = []
        for link in group:
            if link.meter_id in by_meter:
                data = meter_data_from_hourly(link, by_meter[link.meter_id], period.end_day)
            else:
                data = meter_data_from_registers(
                    link, values.get(link.meter_id, {}), period.end_day, window=window
                )
            if not data.valid or data.total is None:
                problems.append(data.detail or f"meter {link.meter_id}: no valid heat volume")
                total = None
                continue
            try:
                gcal = to_gcal(data.total, units.get(link.meter_id, "Gcal"))
            except HeatUnitError as exc:
                problems.append(f"meter {link.meter_id}: {exc}")
                total = None
                continue
            if total is not None:
                total += gcal
        result[place] = HeatReading(place, total, tuple(lk.meter_id for lk in group), "; ".join(problems))
    return result
