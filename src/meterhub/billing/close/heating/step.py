"""Heating (отопление) in the period close: configuration in force → volumes → lines → results.

Called by :func:`meterhub.billing.close.period.close_building` after the other services' results are written
(same transaction). It reads the heating configuration in force on the period's first day
(:mod:`.store`), the heat meters' volumes (:mod:`.meters_io`), the heat tariffs (₽/Гкал, ``tariffs`` rows
of service ``heat``), allocates the house's heat to the premises (:mod:`.rules`) and writes one
``charge_lines`` row per account and tariff part (service ``heat``, unit Gcal, the arithmetic in
``note``), the house's and premises' month (``heating_house_periods`` / ``heating_premise_periods``),
and the yearly corrections booked in this period as ``recalculation_lines`` (source
``heating_correction``, :mod:`.yearly`). It returns the report section the close stores.

Quality rules (decisions 6, 8, 9.0-7):

* house meter without a valid volume in season mode → average per heating day of the measured months
  of the last 12 × this month's heating days, for at most 6 consecutive periods (3 before March 2025),
  then the normative until the meter is valid again (a normative month does not restart the count);
* ИПУ without a valid volume → its average per heating day over the last 12 months (at least 3
  measured months) for at most 3 consecutive periods, then the premise is billed as unmetered;
* season mode: the normative is prorated by the month's heating days; outside the season no lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg

from meterhub.billing.close.heating.meters import HeatReading, heat_volumes
from meterhub.billing.close.heating.store import (
    HeatingConfig,
    HeatingConfigError,
    distributor_units,
    heat_tariff_parts,
    heating_config_on,
    heating_days,
    premise_devices_on,
)
from meterhub.billing.close.heating.yearly import CORRECTION_REASON, house_year_total
from meterhub.billing.close.repository import accounts_in_period, get_building
from meterhub.billing.rules.heating.correction import odpu_average, odpu_average_limit
from meterhub.billing.rules.heating.volumes import (
    HeatAllocation,
    HeatHouse,
    HeatPremise,
    PaymentMode,
    PremiseHeatKind,
    allocate_heat,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money

__all__ = ["HeatingConfigError", "HeatingMonth", "close_heating", "compute_heating", "store_report"]

IPU_AVERAGE_LIMIT = 3
FORMULAS = {
    "norm_no_odpu": "ПП 354 прил. 2 ф. 2 / 2(1)",
    "norm_no_odpu_ipu": "ПП 354 прил. 2 ф. 2(3) [U]",
    "odpu_no_ipu": "ПП 354 прил. 2 ф. 3",
    "odpu_partial_ipu": "ПП 354 прил. 2 ф. 3(1) [U]",
    "odpu_all_ipu": "ПП 354 прил. 2 ф. 3(3) [U]",
}


@dataclass
class HeatingMonth:
    config: HeatingConfig
    heating_days: int
    house_source: str
    measured: Decimal | None
    allocation: HeatAllocation
    premises: list[tuple[HeatPremise, str, Decimal | None]]  # premise, own source, measured ИПУ
    lines: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _history(conn: psycopg.Connection, sql: str, params: tuple) -> list[tuple]:
    return conn.execute(sql, params).fetchall()


def _house_average(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, days: int
) -> tuple[Decimal | None, str]:
    rows = _history(
        conn,
        "SELECT period, house_source, measured_gcal, heating_days FROM heating_house_periods "
        "WHERE building_id = %s AND period < %s ORDER BY period DESC LIMIT 24",
        (building_id, str(period)),
    )
    consecutive = 0
    for _, source, _, _ in rows:
        if source == "meter":
            break
        consecutive += 1
    if consecutive >= odpu_average_limit(period.first_day):
        return None, f"house meter averaged {consecutive} periods (limit reached): normative"
    year_ago = str(BillingPeriod(period.year - 1, period.month))
    base = [(g, d) for p, _, g, d in rows if p >= year_ago and g is not None and d > 0]
    if not base:
        return None, "house meter without a valid volume and no measured heating month to average: normative"
    gcal = sum((g for g, _ in base), Decimal(0))
    hist_days = sum(d for _, d in base)
    return odpu_average(gcal, hist_days, days), (
        f"house meter average {gcal} Гкал / {hist_days} heating days × {days} days ({len(base)} months)"
    )


def _ipu_average(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, premise: str, days: int
) -> Decimal | None:
    rows = _history(
        conn,
        "SELECT h.period, p.own_source, p.measured_gcal, h.heating_days FROM heating_premise_periods p "
        "JOIN heating_house_periods h USING (building_id, period) "
        "WHERE p.building_id = %s AND p.premise_no = %s AND p.period < %s ORDER BY p.period DESC LIMIT 24",
        (building_id, premise, str(period)),
    )
    consecutive = 0
    for _, source, _, _ in rows:
        if source == "meter":
            break
        consecutive += 1
    year_ago = str(BillingPeriod(period.year - 1, period.month))
    base = [(g, d) for p, _, g, d in rows if p >= year_ago and g is not None and d > 0]
    if consecutive >= IPU_AVERAGE_LIMIT or len(base) < 3:
        return None
    with engine_context():
        return sum((g for g, _ in base), Decimal(0)) / sum(d for _, d in base) * days


def compute_heating(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> HeatingMonth | None:
    """The month's heating of a building, or None when it bills no heating this month."""
    config = heating_config_on(conn, building_id, period.first_day)
    if config is None or not config.enabled:
        return None
    policy = config.policy
    building = get_building(conn, building_id)
    assert building is not None
    days = heating_days(conn, building_id, period.first_day, period.end_day)
    season = policy.payment_mode is PaymentMode.SEASON
    if season and days == 0:
        return None
    readings = heat_volumes(conn, building_id, building.time_zone, period)
    warnings: list[str] = []
    house_reading = readings.get(None, HeatReading(None, None, ()))
    measured = house_reading.gcal
    with engine_context():
        if season:
            normative = config.normative * days / period.days
        elif policy.has_odpu:
            normative = config.normative * policy.periodicity
        else:
            normative = config.normative
    house: Decimal | None = None
    source = "normative"
    if policy.has_odpu and season:
        if measured is not None:
            house, source = measured, "meter"
        else:
            warnings.append(house_reading.detail or "no house heat meter linked")
            house, text = _house_average(conn, building_id, period, days)
            warnings.append(text)
            source = "average" if house is not None else "normative"
    elif policy.has_odpu:
        total, text = house_year_total(conn, building_id, building.time_zone, period.year - 1)
        if total is None:
            warnings.append(f"even payment: {text}; normative × K instead")
            normative = config.normative
        else:
            with engine_context():
                house, source = total / 12, "even"
            warnings.append(f"even payment: V_T = {text} / 12")
    premises_rows = conn.execute(
        "SELECT premise_no, area FROM premises WHERE building_id = %s ORDER BY premise_no", (building_id,)
    ).fetchall()
    devices = premise_devices_on(conn, building_id, period.first_day)
    units = distributor_units(conn, building_id, str(period))
    premises: list[tuple[HeatPremise, str, Decimal | None]] = []
    for premise_no, area in premises_rows:
        kind = devices.get(premise_no, PremiseHeatKind.RADIATORS)
        own, own_source, note, ipu = None, "computed", "", None
        if kind is PremiseHeatKind.IPU:
            reading = readings.get(premise_no)
            ipu = reading.gcal if reading else None
            if ipu is not None:
                own, own_source, note = ipu, "meter", "meter " + ", ".join(reading.meters)
            else:
                own = _ipu_average(conn, building_id, period, premise_no, days)
                detail = reading.detail if reading else "no heat meter linked"
                if own is not None:
                    own_source, note = "average", f"average per heating day, {detail}"
                else:
                    own_source = "none"
                    warnings.append(f"premise {premise_no}: {detail}; billed as without ИПУ")
        elif kind is PremiseHeatKind.NO_DEVICES:
            own_source = "none"
        hp = HeatPremise(premise_no, Decimal(area), kind, own, units.get(premise_no), note)
        premises.append((hp, own_source, ipu))
    heat_house = HeatHouse(building.total_area, building.common_area, normative, house)
    allocation = allocate_heat(policy, heat_house, [p for p, _, _ in premises])
    month = HeatingMonth(config, days, source, measured, allocation, premises, warnings=warnings)
    month.warnings += list(allocation.warnings)
    _lines(conn, building_id, period, month)
    return month


def _lines(conn: psycopg.Connection, building_id: str, period: BillingPeriod, month: HeatingMonth) -> None:
    parts = heat_tariff_parts(conn, building_id, period)
    by_premise = {p.premise_no: p for p in month.allocation.premises}
    method = month.allocation.method.value
    source = "" if month.house_source in ("meter", "normative") else f", {month.house_source}"
    label = FORMULAS[method] + source
    with engine_context():
        for account in accounts_in_period(conn, building_id, period):
            heat = by_premise[account.premise_no]
            volume = heat.volume * account.share
            share_text = "" if account.share == 1 else f" × share {account.share}"
            for first, end, price in parts:
                part_volume = volume if len(parts) == 1 else volume * (end - first).days / period.days
                exact = part_volume * price
                month.lines.append(
                    {
                        "account": account.account_no,
                        "part_start": first,
                        "part_end": end,
                        "volume": part_volume,
                        "tariff": price,
                        "method": method,
                        "formula": label,
                        "amount_exact": exact,
                        "amount": round_money(exact),
                        "note": f"{heat.basis}{share_text}",
                    }
                )


def _report(month: HeatingMonth) -> dict[str, Any]:
    policy = month.config.policy
    with engine_context():
        total = sum((line["amount"] for line in month.lines), Decimal(0))
    return {
        "payment_mode": policy.payment_mode.value,
        "has_odpu": policy.has_odpu,
        "method": month.allocation.method.value,
        "house_source": month.house_source,
        "heating_days": month.heating_days,
        "measured_gcal": month.measured,
        "house_gcal": month.allocation.house_gcal,
        "own_gcal": month.allocation.own_total,
        "common_gcal": month.allocation.common_total,
        "normative_gcal_m2": month.config.normative,
        "lines": len(month.lines),
        "amount": total,
        "accounts": _explained(month.lines),
        "warnings": month.warnings,
    }


def _explained(lines: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """account → its heating lines with the arithmetic (one per tariff part)."""
    result: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        result.setdefault(line["account"], []).append(
            {
                "part_start": line["part_start"],
                "volume": line["volume"],
                "tariff": line["tariff"],
                "amount": line["amount"],
                "explained": f"{line['formula']}: {line['note']} → {line['volume']} Гкал"
                f" × {line['tariff']} ₽/Гкал = {line['amount_exact']} → {line['amount']} ₽",
            }
        )
    return result


def close_heating(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, report: dict[str, Any]
) -> Decimal:
    """Compute and write the month's heating of a building; add ``report["heating"]``; return Σ lines."""
    p = str(period)
    for table in ("heating_house_periods", "heating_premise_periods"):
        conn.execute(f"DELETE FROM {table} WHERE building_id = %s AND period = %s", (building_id, p))
    month = compute_heating(conn, building_id, period)
    corrections = _book_corrections(conn, building_id, period)
    if month is None:
        if corrections:
            report["heating"] = {"lines": 0, "amount": Decimal(0), "corrections": corrections}
        return Decimal(0)
    a = month.allocation
    conn.execute(
        "INSERT INTO heating_house_periods (building_id, period, payment_mode, method, house_source, "
        "measured_gcal, house_gcal, own_gcal, common_gcal, heating_days, total_area, volume_decimals) "
        "SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, total_area, %s FROM buildings WHERE building_id = %s",
        (
            building_id,
            p,
            month.config.policy.payment_mode.value,
            a.method.value,
            month.house_source,
            month.measured,
            a.house_gcal,
            a.own_total,
            a.common_total,
            month.heating_days,
            month.config.policy.volume_decimals,
            building_id,
        ),
    )
    by_premise = {h.premise_no: h for h in a.premises}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO heating_premise_periods (building_id, period, premise_no, devices, own_source, "
            "measured_gcal, own_gcal, common_gcal, area) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    building_id,
                    p,
                    hp.premise_no,
                    hp.kind.value,
                    source,
                    ipu,
                    by_premise[hp.premise_no].own_gcal,
                    by_premise[hp.premise_no].common_gcal,
                    hp.area,
                )
                for hp, source, ipu in month.premises
            ],
        )
        cur.executemany(
            "INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start, "
            "part_end, volume, unit, tariff, coefficient, method, formula, amount_exact, amount, excess, "
            "note) VALUES (%s, %s, %s, 'heat', 'individual', 'single', %s, %s, %s, 'Gcal', %s, 1, %s, %s, "
            "%s, %s, 0, %s)",
            [
                (
                    building_id,
                    p,
                    ln["account"],
                    ln["part_start"],
                    ln["part_end"],
                    ln["volume"],
                    ln["tariff"],
                    ln["method"],
                    ln["formula"],
                    ln["amount_exact"],
                    ln["amount"],
                    ln["note"],
                )
                for ln in month.lines
            ],
        )
    section = _report(month)
    section["corrections"] = corrections
    report["heating"] = section
    return section["amount"]


def _book_corrections(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> dict[str, Any]:
    """Write the yearly corrections booked in ``period`` as recalculation lines; their summary."""
    rows = conn.execute(
        "SELECT year, account_no, actual_gcal - billed_gcal, amount, actual, billed, basis "
        "FROM heating_corrections WHERE building_id = %s AND booked_period = %s ORDER BY account_no",
        (building_id, str(period)),
    ).fetchall()
    if not rows:
        return {}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO recalculation_lines (building_id, period, corrects_period, account_no, service, "
            "kind, zone, part_start, volume_delta, amount_exact_delta, amount, method_before, method_after, "
            "reason, source) VALUES (%s, %s, %s, %s, 'heat', 'individual', 'single', %s, %s, %s, %s, "
            "'even_year', 'odpu_actual', %s, 'heating_correction')",
            [
                (
                    building_id,
                    str(period),
                    f"{year}-12",
                    account,
                    date(year, 12, 1),
                    volume,
                    amount,
                    amount,
                    CORRECTION_REASON.format(year=year),
                )
                for year, account, volume, amount, _, _, _ in rows
            ],
        )
    with engine_context():
        total = sum((r[3] for r in rows), Decimal(0))
    return {
        "years": sorted({r[0] for r in rows}),
        "lines": len(rows),
        "amount": total,
        "accounts": {r[1]: {"amount": r[3], "actual": r[4], "billed": r[5], "explained": r[6]} for r in rows},
    }


def store_report(conn: psycopg.Connection, building_id: str, period: BillingPeriod, report: dict) -> None:
    conn.execute(
        "UPDATE close_reports SET report = %s::jsonb WHERE building_id = %s AND period = %s",
        (json.dumps(report, ensure_ascii=False, default=str), building_id, str(period)),
    )
