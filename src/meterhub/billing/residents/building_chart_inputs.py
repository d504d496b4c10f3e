"""Building charts of the resident API, database side: per service and month the house (ОДПУ) volume from
the close's ``period_common_property`` or, for months not computed, from the time series the way the close
reads house meters (hourly totals, or register readings in the readings windows), the residents and the
distributed common-property volume (heating: the close's ``heating_house_periods``, the house meter's or
its average's heat and the common-property heat); the figures go to the pure
:mod:`meterhub.billing.residents.building_charts`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.close.meter_reads import month_meter_data
from meterhub.billing.close.repository import MeterLinkRow, residents_on
from meterhub.billing.residents.building_charts import MonthFigures, ServiceChart, build_service_chart
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import SERVICE_UNITS, Service

__all__ = ["building_charts"]


def _house_links(conn: psycopg.Connection, building_id: str, first: date, end: date) -> list[MeterLinkRow]:
    rows = conn.execute(
        """
        SELECT l.meter_id, l.premise_no, l.service, m.verification_due, m.multiplier, m.register_digits,
               l.valid_from, l.valid_to
        FROM meter_links l JOIN meters m USING (meter_id)
        WHERE l.building_id = %s AND l.premise_no IS NULL AND l.valid_from < %s
          AND (l.valid_to IS NULL OR l.valid_to > %s)
        """,
        (building_id, end, first),
    ).fetchall()
    return [MeterLinkRow(*r) for r in rows]


def _house_volume_from_telemetry(
    conn: psycopg.Connection, links: list[MeterLinkRow], period: BillingPeriod, tz: ZoneInfo
) -> Decimal | None:
    """Σ of the house meters' volumes for a month when every one of them has a valid volume."""
    if not links:
        return None
    volume = Decimal(0)
    for data in month_meter_data(conn, links, period, tz.key):
        if not data.valid or data.total is None:
            return None
        volume += data.total
    return volume


def building_charts(
    conn: psycopg.Connection, building_id: str, year: int, today: date, services: Sequence[str] | None = None
) -> tuple[str, Decimal, list[ServiceChart]]:
    """(time zone, total area, charts per service) of ``year`` against ``year − 1``; months after the
    current local month are empty."""
    row = conn.execute(
        "SELECT time_zone, total_area FROM buildings WHERE building_id = %s", (building_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"building {building_id} not found")
    tz_name, total_area = row
    tz = ZoneInfo(tz_name)
    first, end = date(year - 1, 1, 1), date(year + 1, 1, 1)
    links = _house_links(conn, building_id, first, end)
    closed = conn.execute(
        """
        SELECT period, service, house_volume, distributed, method
        FROM period_common_property WHERE building_id = %s AND period >= %s AND period < %s
        """,
        (building_id, f"{year - 1}-01", f"{year + 1}-01"),
    ).fetchall()
    close_rows = {(p, s): (hv, dist, method) for p, s, hv, dist, method in closed}
    for p, hv, dist, method in conn.execute(  # heating: the close's house heat (billing/heating)
        "SELECT period, house_gcal, common_gcal, method FROM heating_house_periods "
        "WHERE building_id = %s AND period >= %s AND period < %s AND house_source IN ('meter', 'average')",
        (building_id, f"{year - 1}-01", f"{year + 1}-01"),
    ).fetchall():
        close_rows[(p, "heat")] = (hv, dist, method)
    wanted = sorted({link.service for link in links} | {s for _, s in close_rows})
    if services is not None:
        wanted = [s for s in wanted if s in services]
    persons_cache: dict[BillingPeriod, int] = {}
    charts = []
    current = BillingPeriod(today.year, today.month)
    for service in wanted:
        figures: dict[int, list[MonthFigures]] = {year - 1: [], year: []}
        for y in (year - 1, year):
            for month in range(1, 13):
                period = BillingPeriod(y, month)
                if period >= current:
                    continue
                if period not in persons_cache:
                    persons_cache[period] = sum(
                        residents_on(conn, building_id, period.end_day - timedelta(days=1)).values()
                    )
                house, distributed, method = close_rows.get((str(period), service), (None, None, None))
                source = "close" if house is not None else None
                if house is None:
                    month_links = [
                        link
                        for link in links
                        if link.service == service
                        and (link.valid_from is None or link.valid_from < period.end_day)
                        and (link.valid_to is None or link.valid_to > period.first_day)
                    ]
                    house = _house_volume_from_telemetry(conn, month_links, period, tz)
                    source = "telemetry" if house is not None else None
                figures[y].append(
                    MonthFigures(month, house, source, persons_cache[period], distributed, method)
                )
        unit = SERVICE_UNITS.get(Service(service), "") if service in {s.value for s in Service} else ""
        unit = unit or ("Gcal" if service == "heat" else "")
        charts.append(build_service_chart(service, unit, year, total_area, figures[year], figures[year - 1]))
    return tz_name, total_area, charts
