"""The yearly correction of heating paid evenly over the year (корректировка, billing-rules.md §9.3).

For a building billed evenly with a house meter (``heating_house_periods.house_source = 'even'``), each
month of the year is re-allocated with the house meter's **actual** volume of that month (the stored
measured volume, or the time series read now) and the premises' own volumes of that month, at that
month's heat tariffs; per account the correction is ``round(Σ actual) − Σ billed`` (decision 9.0-4,
:func:`~meterhub.billing.rules.heating.correction.yearly_correction`). The result is stored in
``heating_corrections`` and booked by the close of ``booked_period`` — month ``correction_month`` of the
next year (January by default), or the first open period after it — as a signed recalculation line
"Корректировка размера платы за отопление за <year> г.".

:func:`house_year_total` gives the previous year's house volume the even payment divides by 12.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg

from meterhub.billing.close.heating.meters import heat_volumes
from meterhub.billing.close.heating.store import (
    distributor_units,
    heat_tariff_parts,
    heating_config_on,
    house_year_override,
)
from meterhub.billing.close.repository import accounts_in_period, get_building
from meterhub.billing.rules.heating.correction import CorrectionMonth, yearly_correction
from meterhub.billing.rules.heating.volumes import HeatHouse, HeatPremise, PremiseHeatKind, allocate_heat
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context

__all__ = ["CORRECTION_REASON", "YearlyReport", "house_year_total", "run_yearly_correction"]

CORRECTION_REASON = "Корректировка размера платы за отопление за {year} г."


def _measured(conn: psycopg.Connection, building_id: str, tz: str, period: BillingPeriod) -> Decimal | None:
    row = conn.execute(
        "SELECT measured_gcal FROM heating_house_periods WHERE building_id = %s AND period = %s",
        (building_id, str(period)),
    ).fetchone()
    if row is not None and row[0] is not None:
        return Decimal(row[0])
    reading = heat_volumes(conn, building_id, tz, period).get(None)
    return reading.gcal if reading else None


def house_year_total(
    conn: psycopg.Connection, building_id: str, time_zone: str, year: int
) -> tuple[Decimal | None, str]:
    """The house meter's heat of a calendar year: Σ of the 12 months when every one has a valid volume
    (closed months' stored volumes, else the time series), else ``heating_house_years``; with the text."""
    months = [_measured(conn, building_id, time_zone, BillingPeriod(year, m)) for m in range(1, 13)]
    if all(v is not None for v in months):
        with engine_context():
            total = sum((v for v in months if v is not None), Decimal(0))
        return total, f"house meter {year}: {total} Гкал"
    override = house_year_override(conn, building_id, year)
    if override is not None:
        return override, f"house heat {year} (heating_house_years): {override} Гкал"
    missing = [m for m, v in zip(range(1, 13), months, strict=True) if v is None]
    return None, f"house meter {year}: no valid volume for months {missing} and no heating_house_years row"


@dataclass
class YearlyReport:
    building: str
    year: int
    booked_period: str | None = None
    months: list[str] = field(default_factory=list)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    amount: Decimal = Decimal(0)
    problems: list[str] = field(default_factory=list)


def _booked_period(conn: psycopg.Connection, building_id: str, year: int, month: int) -> BillingPeriod:
    wanted = BillingPeriod(year + 1, month)
    row = conn.execute(
        "SELECT max(period) FROM billing_periods WHERE building_id = %s AND status = 'closed'", (building_id,)
    ).fetchone()
    latest = BillingPeriod.parse(row[0]) if row and row[0] else None
    return latest.next() if latest is not None and latest >= wanted else wanted


def _month_actual(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, house_gcal: Decimal
) -> dict[str, tuple[Decimal, Decimal]]:
    """account → (actual volume, actual exact money) of one month re-allocated with ``house_gcal``."""
    config = heating_config_on(conn, building_id, period.first_day)
    building = get_building(conn, building_id)
    assert config is not None and building is not None
    rows = conn.execute(
        "SELECT premise_no, devices, own_source, measured_gcal, area, own_gcal FROM heating_premise_periods "
        "WHERE building_id = %s AND period = %s",
        (building_id, str(period)),
    ).fetchall()
    units = distributor_units(conn, building_id, str(period))
    premises = []
    for premise_no, devices, source, _measured_gcal, area, own in rows:
        kind = PremiseHeatKind(devices)
        own_gcal = Decimal(own) if kind is PremiseHeatKind.IPU and source in ("meter", "average") else None
        premises.append(HeatPremise(premise_no, Decimal(area), kind, own_gcal, units.get(premise_no)))
    with engine_context():
        normative = config.normative * config.policy.periodicity
    house = HeatHouse(building.total_area, building.common_area, normative, house_gcal)
    volumes = {p.premise_no: p.volume for p in allocate_heat(config.policy, house, premises).premises}
    parts = heat_tariff_parts(conn, building_id, period)
    result = {}
    with engine_context():
        for account in accounts_in_period(conn, building_id, period):
            volume = volumes.get(account.premise_no, Decimal(0)) * account.share
            money = sum((volume * (e - s).days / period.days * price for s, e, price in parts), Decimal(0))
            result[account.account_no] = (volume, money)
    return result


def run_yearly_correction(conn: psycopg.Connection, building_id: str, year: int) -> YearlyReport:
    """Compute and store the yearly correction of ``year`` for one building; the report says why."""
    report = YearlyReport(building_id, year)
    building = get_building(conn, building_id)
    if building is None:
        report.problems.append("unknown building")
        return report
    booked = conn.execute(
        "SELECT DISTINCT c.booked_period FROM heating_corrections c JOIN billing_periods p "
        "ON p.building_id = c.building_id AND p.period = c.booked_period "
        "WHERE c.building_id = %s AND c.year = %s AND p.status = 'closed'",
        (building_id, year),
    ).fetchone()
    if booked is not None:
        report.problems.append(
            f"the {year} correction is already booked in the closed period {booked[0]}; "
            "it is not booked twice"
        )
        return report
    rows = conn.execute(
        "SELECT period FROM heating_house_periods WHERE building_id = %s AND period LIKE %s "
        "AND house_source = 'even' ORDER BY period",
        (building_id, f"{year}-%"),
    ).fetchall()
    if not rows:
        report.problems.append(f"no month of {year} billed evenly by the house meter: nothing to correct")
        return report
    billed: dict[str, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for account, period, amount, volume in conn.execute(
        "SELECT account_no, period, sum(amount), sum(volume) FROM charge_lines WHERE building_id = %s "
        "AND service = 'heat' AND period LIKE %s GROUP BY account_no, period",
        (building_id, f"{year}-%"),
    ).fetchall():
        billed[account][period] = (amount, volume)
    actual: dict[str, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    for (p,) in rows:
        period = BillingPeriod.parse(p)
        measured = _measured(conn, building_id, building.time_zone, period)
        if measured is None:
            report.problems.append(f"{p}: the house meter has no valid volume; correct after it is repaired")
            continue
        report.months.append(p)
        for account, values in _month_actual(conn, building_id, period, measured).items():
            actual[account][p] = values
    if report.problems:
        return report
    config = heating_config_on(conn, building_id, BillingPeriod(year, 12).first_day)
    month = config.policy.correction_month if config else 1
    booked = _booked_period(conn, building_id, year, month)
    report.booked_period = str(booked)
    conn.execute("DELETE FROM heating_corrections WHERE building_id = %s AND year = %s", (building_id, year))
    with engine_context():
        for account in sorted(set(actual) | set(billed)):
            months = []
            billed_gcal = Decimal(0)
            for p in sorted(set(actual[account]) | set(billed[account])):
                volume, money = actual[account].get(p, (Decimal(0), Decimal(0)))
                paid, paid_volume = billed[account].get(p, (Decimal(0), Decimal(0)))
                billed_gcal += paid_volume
                # the month's money as volume × its effective tariff (Σ parts), so the pure rule rounds once
                tariff = money / volume if volume else Decimal(0)
                months.append(CorrectionMonth(int(p[5:]), volume, tariff, paid))
            corr = yearly_correction(months, Decimal(1), Decimal(1))
            conn.execute(
                "INSERT INTO heating_corrections (building_id, year, account_no, booked_period, actual, "
                "billed, amount, actual_gcal, billed_gcal, basis) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    building_id,
                    year,
                    account,
                    str(booked),
                    corr.actual,
                    corr.billed,
                    corr.amount,
                    corr.actual_gcal,
                    billed_gcal,
                    corr.basis,
                ),
            )
            report.accounts[account] = {
                "actual": corr.actual,
                "billed": corr.billed,
                "amount": corr.amount,
                "actual_gcal": corr.actual_gcal,
                "billed_gcal": billed_gcal,
            }
            report.amount += corr.amount
    return report
