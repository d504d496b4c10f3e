"""Heat meters' volumes of a month from the time series — the house meter (ОДПУ) and the premises' ИПУ —
read the way the close reads every meter (:func:`meterhub.billing.close.meter_reads.month_meter_data`). The
register's unit (``meter_registers.unit``) is converted to Гкал in one place (:mod:`.units`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg

from meterhub.billing.close.meter_reads import month_meter_data
from meterhub.billing.close.repository import MeterLinkRow
from meterhub.billing.rules.heating.units import HeatUnitError, to_gcal
from meterhub.billing.rules.meter_data import MeterData
from meterhub.billing.rules.periods import BillingPeriod

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
    ids = sorted({link.meter_id for link in links})
    units = dict(
        conn.execute(
            "SELECT meter_id, unit FROM meter_registers WHERE register = 'heat_gcal' AND meter_id = ANY(%s)",
            (ids,),
        ).fetchall()
    )
    places: dict[str | None, list[tuple[MeterLinkRow, MeterData]]] = {}
    for link, data in zip(links, month_meter_data(conn, links, period, time_zone), strict=True):
        places.setdefault(link.premise_no, []).append((link, data))
    result: dict[str | None, HeatReading] = {}
    for place, group in places.items():
        total: Decimal | None = Decimal(0)
        problems = []
        for link, data in group:
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
        result[place] = HeatReading(place, total, tuple(lk.meter_id for lk, _ in group), "; ".join(problems))
    return result
