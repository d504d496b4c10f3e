"""Database side of the resident telemetry API: an account's meters, the tariffs of a building over a date
range (billed ``tariffs`` and offered ``tariff_options``), consumption charts and the tariff advice — the
I/O around the pure :mod:`~meterhub.billing.residents.consumption_series` and
:mod:`~meterhub.billing.residents.tariff_advice`.
Submissions are stored by :mod:`~meterhub.billing.residents.submission_store`, building charts loaded by
:mod:`~meterhub.billing.residents.building_chart_inputs`.

Register labels a resident sees and submits: ``T`` for a meter's single total register, ``T1``/``T2``/``T3``
for the tariff registers of a multi-zone meter (T1 day / T2 night on a two-tariff meter; T1 peak / T2 night /
T3 semi-peak on a three-tariff one, :data:`~meterhub.billing.rules.zones.TWO_REGISTER_ZONES`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from meterhub.billing.close.config_in_force import account_plan_tariffs, zone_schedules
from meterhub.billing.close.repository import MeterLinkRow
from meterhub.billing.residents.consumption_series import (
    ConsumptionChart,
    Resolution,
    Unit,
    build_consumption_chart,
)
from meterhub.billing.residents.tariff_advice import TariffAdvice, advise_tariff, last_full_months
from meterhub.billing.rules.meter_data import (
    SERVICE_REGISTERS,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.schedule_text import parse_zone_schedule
from meterhub.billing.rules.tariff_plans import PlanError
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.zones import (
    SINGLE_RATE_SCHEDULE,
    THREE_REGISTER_ZONES,
    TWO_REGISTER_ZONES,
    HourlySeries,
    Zone,
    ZoneScheme,
)
from meterhub.timeseries.resident_queries import (
    RegisterRow,
    hourly_with_quality,
    latest_readings,
    meter_register_rows,
)

__all__ = [
    "AccountContext",
    "AccountMeter",
    "MeterRegister",
    "account_context",
    "account_meters",
    "consumption_chart",
    "service_tariffs",
    "tariff_advice_for_account",
    "tariff_options",
]

"""The close's readings window (by the 25th, billing-rules.md §1.2): a monthly reading taken after the
previous period's window and up to this day of the month is the period's end reading."""

_PRICE_COLUMNS = {
    Zone.SINGLE: "price_single",
    Zone.DAY: "price_day",
    Zone.NIGHT: "price_night",
    Zone.PEAK: "price_peak",
    Zone.SEMI_PEAK: "price_semi_peak",
}
_SOURCES = {0: "gateway", 1: "manual", 2: "import", 3: "estimate"}


@dataclass(frozen=True)
class AccountContext:
    account_no: str
    building_id: str
    premise_no: str
    time_zone: str
    residential: bool
    total_area: Decimal


def account_context(conn: psycopg.Connection, account_no: str) -> AccountContext | None:
    row = conn.execute(
        """
        SELECT a.account_no, a.building_id, a.premise_no, b.time_zone, p.residential, b.total_area
        FROM accounts a JOIN buildings b USING (building_id) JOIN premises p USING (building_id, premise_no)
        WHERE a.account_no = %s
        """,
        (account_no,),
    ).fetchone()
    return AccountContext(*row) if row else None


@dataclass(frozen=True)
class MeterRegister:
    """A counter register of a meter as a resident sees it."""

    label: str  # T, T1, T2, T3
    register: str
    unit: str
    zone: str | None  # tariff zone of a multi-zone meter's register
    series_id: int
    max_per_hour: float | None
    latest_value: float | None = None
    latest_ts: datetime | None = None
    latest_source: str | None = None
    latest_valid_value: float | None = None
    latest_valid_ts: datetime | None = None


@dataclass(frozen=True)
class AccountMeter:
    meter_id: str
    service: str
    kind: str
    manufacturer: str
    serial: str
    model: str | None
    installed_on: date | None
    removed_on: date | None
    verification_due: date | None
    register_digits: int | None
    multiplier: Decimal
    linked_from: date
    linked_to: date | None
    registers: tuple[MeterRegister, ...]  # what the resident submits (T or T1..Tn)
    chart_series: tuple[int, ...]  # series ids whose hours make the consumption chart

    @property
    def multi_zone(self) -> bool:
        return len(self.registers) > 1

    def verification_status(self, today: date, warn_days: int = 30) -> str:
        if self.verification_due is None:
            return "unknown"
        if self.verification_due <= today:
            return "expired"
        if self.verification_due <= today + timedelta(days=warn_days):
            return "due_soon"
        return "ok"

    def link_row(self) -> MeterLinkRow:
        return MeterLinkRow(
            self.meter_id, None, self.service, self.verification_due, self.multiplier, self.register_digits
        )


def _submittable(
    service: str, rows: Sequence[RegisterRow]
) -> tuple[list[tuple[str, RegisterRow]], list[int]]:
    """(label, register) pairs a resident submits, and the series of the consumption chart."""
    spec = SERVICE_REGISTERS.get(service)
    by_name = {r.register: r for r in rows if r.cumulative}
    if spec is None:
        chosen = [("T", r) for r in by_name.values()][:1]
        return chosen, [r.series_id for _, r in chosen]
    tariff = [(label, by_name[name]) for label, name in spec.tariff.items() if name in by_name]
    total = by_name.get(spec.total)
    labelled = tariff if len(tariff) >= 2 else ([("T", total)] if total else tariff[:1])
    chart = [total.series_id] if total else [r.series_id for _, r in tariff]
    return labelled, chart


def account_meters(
    conn: psycopg.Connection,
    account_no: str,
    *,
    on: date | None = None,
    meter_id: str | None = None,
    with_latest: bool = True,
) -> list[AccountMeter]:
    """Meters linked to the account's premise: on day ``on`` (all links when None), or one ``meter_id``
    among every meter ever linked to the premise (so a replaced meter's history stays visible);
    ``with_latest=False`` skips reading the latest readings (charts do not need them)."""
    rows = conn.execute(
        """
        SELECT l.meter_id, l.service, m.kind, m.manufacturer, m.serial, m.model, m.installed_on,
               m.removed_on, m.verification_due, m.register_digits, m.multiplier, l.valid_from, l.valid_to
        FROM accounts a
        JOIN meter_links l ON l.building_id = a.building_id AND l.premise_no = a.premise_no
        JOIN meters m ON m.meter_id = l.meter_id
        WHERE a.account_no = %(account)s
          AND (%(meter)s::text IS NULL OR l.meter_id = %(meter)s)
          AND (%(on)s::date IS NULL
               OR (l.valid_from <= %(on)s AND (l.valid_to IS NULL OR l.valid_to > %(on)s)))
        ORDER BY l.service, l.meter_id, l.valid_from DESC
        """,
        {"account": account_no, "meter": meter_id, "on": on},
    ).fetchall()
    seen: dict[str, tuple] = {}
    for r in rows:
        seen.setdefault(r[0], r)  # the latest link of each meter
    registers = meter_register_rows(conn, list(seen))
    by_meter: dict[str, list[RegisterRow]] = {}
    for reg in registers:
        by_meter.setdefault(reg.meter_id, []).append(reg)
    chosen = {m: _submittable(seen[m][1], by_meter.get(m, [])) for m in seen}
    latest = (
        latest_readings(conn, [reg.series_id for labelled, _ in chosen.values() for _, reg in labelled])
        if with_latest
        else {}
    )
    meters = []
    for m, row in seen.items():
        labelled, chart = chosen[m]
        zones = THREE_REGISTER_ZONES if len(labelled) >= 3 else TWO_REGISTER_ZONES
        regs = []
        for label, reg in labelled:
            any_, valid = latest.get(reg.series_id, (None, None))
            regs.append(
                MeterRegister(
                    label=label,
                    register=reg.register,
                    unit=reg.unit,
                    zone=zones[label].value if len(labelled) > 1 and label in zones else None,
                    series_id=reg.series_id,
                    max_per_hour=reg.max_per_hour,
                    latest_value=any_.value if any_ else None,
                    latest_ts=any_.ts if any_ else None,
                    latest_source=_SOURCES.get(any_.source) if any_ else None,
                    latest_valid_value=valid.value if valid else None,
                    latest_valid_ts=valid.ts if valid else None,
                )
            )
        (_, service, kind, manufacturer, serial, model, installed, removed, due, digits, mult, lf, lt) = row
        meters.append(
            AccountMeter(
                m,
                service,
                kind,
                manufacturer,
                serial,
                model,
                installed,
                removed,
                due,
                digits,
                mult,
                lf,
                lt,
                tuple(regs),
                tuple(chart),
            )
        )
    return meters


# --- tariffs -----------------------------------------------------------------------------------------


def _tariff_rows(
    conn: psycopg.Connection, table: str, building_id: str, service: str, first: date, end: date
) -> list[tuple]:
    scheme_key = ", scheme" if table == "tariff_options" else ""
    return conn.execute(
        f"""
        SELECT applies_to, valid_from, valid_to, scheme, zone_schedule, {", ".join(_PRICE_COLUMNS.values())}
               {", 'per_unit'" if table == "tariff_options" else ", basis"}
        FROM {table}
        WHERE service = %s AND applies_to IN ('*', %s) AND valid_from < %s
          AND (valid_to IS NULL OR valid_to > %s)
        ORDER BY valid_from{scheme_key}
        """,
        (service, building_id, end, first),
    ).fetchall()


def _own_over_default(rows: list[tuple], building_id: str, key: Callable[[tuple], object]) -> list[tuple]:
    own = {key(r) for r in rows if r[0] == building_id}
    return [r for r in rows if not (r[0] == "*" and key(r) in own)]


def _tariff(service: str, row: tuple, scheme: ZoneScheme | None = None) -> Tariff:
    applies_to, valid_from, valid_to, row_scheme, schedule, *prices, basis = row
    zone_prices = {z: p for z, p in zip(_PRICE_COLUMNS, prices, strict=True) if p is not None}
    if scheme is ZoneScheme.SINGLE_RATE and row_scheme != "single_rate":
        return Tariff(
            Service(service),
            valid_from,
            {Zone.SINGLE: zone_prices[Zone.SINGLE]},
            valid_to=valid_to,
            schedule=SINGLE_RATE_SCHEDULE,
            name=f"{service}/{applies_to} single-rate price from {valid_from}",
        )
    return Tariff(
        Service(service),
        valid_from,
        zone_prices,
        valid_to=valid_to,
        schedule=parse_zone_schedule(schedule, ZoneScheme(row_scheme)),
        basis=PriceBasis(basis),
        name=f"{service}/{applies_to} from {valid_from}",
    )


def service_tariffs(
    conn: psycopg.Connection, building_id: str, service: str, first: date, end: date, account_no: str = ""
) -> list[Tariff]:
    """The tariffs of ``service`` over ``[first, end)`` that the account pays under its tariff plans (its
    meter's, its own, the building's — with weekday/holiday schedules; as the close does), or the
    building's default plan when no account is given or the account's plan has no prices."""
    if service not in {s.value for s in Service}:
        return []
    for who in dict.fromkeys((account_no, "")):
        try:
            # one day more: a chart's day table runs to its end day inclusive
            return account_plan_tariffs(conn, building_id, who, service, first, end + timedelta(days=1))[0]
        except PlanError:
            continue
    return []


def tariff_options(
    conn: psycopg.Connection, building_id: str, first: date, end: date
) -> dict[ZoneScheme, list[Tariff]]:
    """Electricity tariffs per scheme offered over ``[first, end)``: ``tariff_options`` rows of the scheme
    when there are any, else derived from the billed ``tariffs`` (their own scheme, and their
    single-rate price as the single-rate option)."""
    service = Service.ELECTRICITY.value
    offered = _own_over_default(
        _tariff_rows(conn, "tariff_options", building_id, service, first, end), building_id, lambda r: r[3]
    )
    billed = _own_over_default(
        _tariff_rows(conn, "tariffs", building_id, service, first, end), building_id, lambda r: None
    )
    result: dict[ZoneScheme, list[Tariff]] = {}
    for scheme in ZoneScheme:
        rows = [r for r in offered if r[3] == scheme.value]
        if rows:
            result[scheme] = [_tariff(service, r) for r in rows]
            continue
        if scheme is ZoneScheme.SINGLE_RATE:  # the single-rate price of one billed scheme (they may differ)
            with_single = [r for r in billed if r[5] is not None]
            first = min((ZoneScheme(r[3]) for r in with_single), key=list(ZoneScheme).index, default=None)
            derived = [_tariff(service, r, scheme) for r in with_single if first and r[3] == first.value]
        else:
            derived = [_tariff(service, r) for r in billed if r[3] == scheme.value]
        if derived:
            result[scheme] = derived
    return result


# --- consumption chart ---------------------------------------------------------------------------------


def consumption_chart(
    conn: psycopg.Connection,
    ctx: AccountContext,
    meter: AccountMeter,
    first_day: date,
    end_day: date,
    resolution: Resolution,
    unit: Unit,
) -> ConsumptionChart:
    """The chart of ``meter`` over the local days ``[first_day, end_day)``."""
    tz = ZoneInfo(ctx.time_zone)
    start = datetime.combine(first_day, datetime.min.time(), tz).astimezone(UTC)
    end = datetime.combine(end_day, datetime.min.time(), tz).astimezone(UTC)
    hours = hourly_with_quality(conn, meter.chart_series, start, end)
    tariffs = service_tariffs(conn, ctx.building_id, meter.service, first_day, end_day, ctx.account_no)
    return build_consumption_chart(
        hours.hour_starts_us,
        hours.volume_micro,
        hours.quality,
        start=start,
        end=end,
        tz=tz,
        resolution=resolution,
        unit=unit,
        tariffs=tariffs,
    )


# --- tariff advice ---------------------------------------------------------------------------------------


def tariff_advice_for_account(
    conn: psycopg.Connection, ctx: AccountContext, today: date
) -> tuple[list[AccountMeter], TariffAdvice | None]:
    """Advice over the last 12 full local months from the account's electricity meters' hourly series
    (summed when the premise had several meters, e.g. a replacement)."""
    periods = last_full_months(BillingPeriod(today.year, today.month))
    first, end = periods[0].first_day, periods[-1].end_day
    meters = [
        m
        for m in account_meters(conn, ctx.account_no)
        if m.service == Service.ELECTRICITY.value
        and m.linked_from < end
        and (m.linked_to is None or m.linked_to > first)
    ]
    if not meters:
        return [], None
    tz = ZoneInfo(ctx.time_zone)
    start_utc = periods[0].bounds_utc(tz)[0]
    end_utc = periods[-1].bounds_utc(tz)[1]
    series = [hourly_with_quality(conn, m.chart_series, start_utc, end_utc) for m in meters]
    starts = np.concatenate([s.hour_starts_us for s in series])
    volumes = np.concatenate([s.volume_micro for s in series])
    billable = np.concatenate([s.quality < 3 for s in series])
    starts, volumes = starts[billable], volumes[billable]
    if len(meters) > 1 and len(starts):
        unique, inverse = np.unique(starts, return_inverse=True)
        summed = np.zeros(len(unique), dtype=np.int64)
        np.add.at(summed, inverse, volumes)
        starts, volumes = unique, summed
    options = tariff_options(conn, ctx.building_id, first, end)
    try:
        _, spans = account_plan_tariffs(
            conn, ctx.building_id, ctx.account_no, Service.ELECTRICITY.value, today, today + timedelta(days=1)
        )
    except PlanError:
        spans = []
    current = spans[-1].scheme if spans else None
    if spans and spans[-1].schedule is not None and current in options:
        # the account's plan names a weekday/holiday schedule: price its scheme's option with it
        name = spans[-1].schedule.name  # with the holidays of the advice's twelve months
        schedule = zone_schedules(conn, [name], first, end)[name]
        options[current] = [dataclasses.replace(t, schedule=schedule) for t in options[current]]
    advice = advise_tariff(HourlySeries.from_micro(starts, volumes), tz, periods, options, current=current)
    return meters, advice
