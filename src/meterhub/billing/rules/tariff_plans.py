"""Tariff plans (тарифный план: одноставочный, двух- или трёхзонный) of a building, an account or a meter.

A plan names the zone scheme a consumer is billed on, from a date (billing-rules.md decision 11), and
optionally a named zone schedule (weekday/holiday zones, :class:`~meterhub.billing.rules.zones.DayType`). The
regional tariff order prices every scheme; the plan picks which prices an account pays.

For each day of a period the plan in force is the first found of: the meter's plan (a meter linked to the
account's premise for the service), the account's plan, the building's default plan, and — without any
plan row — the **implicit default**: the only scheme priced for that day, or single-rate where several
are priced [I] (the rate a consumer who never chose a plan pays). Days with the same plan form a span;
each span takes the tariffs of its scheme, clipped to the span (pure functions, no I/O).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.zones import SINGLE_RATE_SCHEDULE, Zone, ZoneSchedule, ZoneScheme

__all__ = [
    "PlanError",
    "PlanRow",
    "PlanSpan",
    "default_scheme",
    "plan_in_force",
    "plan_spans",
    "priced_schemes",
    "tariffs_by_account",
    "tariffs_for_plans",
]

_ORDER = (ZoneScheme.SINGLE_RATE, ZoneScheme.TWO_ZONE, ZoneScheme.THREE_ZONE)


class PlanError(ValueError):
    """A plan cannot be priced (no tariff of its scheme in force); the message names account and dates."""


@dataclass(frozen=True)
class PlanRow:
    """One ``tariff_plans`` row: ``account_no`` / ``meter_id`` empty when not at that level."""

    service: str
    valid_from: date
    scheme: ZoneScheme
    schedule: ZoneSchedule | None = None
    account_no: str = ""
    meter_id: str = ""
    source: str = "import"

    @property
    def level(self) -> str:
        return "meter" if self.meter_id else "account" if self.account_no else "building"


@dataclass(frozen=True)
class PlanSpan:
    """Days ``[start, end)`` of a period billed on one plan; ``level``: where the plan came from."""

    start: date
    end: date
    scheme: ZoneScheme
    schedule: ZoneSchedule | None
    level: str
    since: date | None = None

    def describe(self) -> str:
        name = f", schedule {self.schedule.name}" if self.schedule is not None else ""
        since = f" from {self.since}" if self.since else ""
        return f"{self.scheme}{name} ({self.level} plan{since})"


def plan_in_force(rows: Sequence[PlanRow], day: date) -> PlanRow | None:
    """The row with the latest ``valid_from`` on or before ``day`` (rows of one level and service)."""
    best: PlanRow | None = None
    for row in rows:
        if row.valid_from <= day and (best is None or row.valid_from > best.valid_from):
            best = row
    return best


def default_scheme(tariffs: Sequence[Tariff], service: Service, day: date) -> ZoneScheme | None:
    """The implicit plan on ``day``: the only scheme priced, or single-rate among several [I]."""
    schemes = {t.scheme for t in tariffs if t.service is service and t.covers(day)}
    if not schemes:
        return None
    if len(schemes) == 1 or ZoneScheme.SINGLE_RATE not in schemes:
        return min(schemes, key=_ORDER.index)
    return ZoneScheme.SINGLE_RATE


def plan_spans(
    period: BillingPeriod | tuple[date, date],
    service: Service,
    tariffs: Sequence[Tariff],
    levels: Sequence[Sequence[PlanRow]],
) -> list[PlanSpan]:
    """The plan spans of ``period`` (or of local days ``[first, end)``); ``levels``: plan rows from the
    most to the least specific level (meter, account, building). Days without any plan and any tariff
    get no span."""
    first, end = period if isinstance(period, tuple) else (period.first_day, period.end_day)
    spans: list[PlanSpan] = []
    day = first
    while day < end:
        found = next((row for rows in levels if (row := plan_in_force(rows, day)) is not None), None)
        if found is not None:
            scheme, schedule, level, since = found.scheme, found.schedule, found.level, found.valid_from
        else:
            implicit = default_scheme(tariffs, service, day)
            if implicit is None:
                day += timedelta(days=1)
                continue
            scheme, schedule, level, since = implicit, None, "default", None
        last = spans[-1] if spans else None
        if (
            last is not None
            and last.end == day
            and (last.scheme, last.schedule, last.level, last.since) == (scheme, schedule, level, since)
        ):
            spans[-1] = dataclasses.replace(last, end=day + timedelta(days=1))
        else:
            spans.append(PlanSpan(day, day + timedelta(days=1), scheme, schedule, level, since))
        day += timedelta(days=1)
    return spans


def _priced_for(tariffs: Sequence[Tariff], service: Service, scheme: ZoneScheme) -> list[Tariff]:
    """The tariffs of ``scheme``; for single-rate without single-rate tariffs, the single-rate price of the
    zoned ones (regional orders publish it beside the zone prices) [I]."""
    own = [t for t in tariffs if t.service is service and t.scheme is scheme]
    if own or scheme is not ZoneScheme.SINGLE_RATE:
        return own
    return [
        dataclasses.replace(
            t,
            prices={Zone.SINGLE: t.price(Zone.SINGLE)},
            schedule=SINGLE_RATE_SCHEDULE,
            name=f"{t.label}, single-rate price",
        )
        for t in tariffs
        if t.service is service and t.has_price(Zone.SINGLE)
    ]


def priced_schemes(tariffs: Sequence[Tariff], service: Service) -> set[ZoneScheme]:
    """The schemes a plan of ``service`` can be priced on with ``tariffs``."""
    return {s for s in ZoneScheme if _priced_for(tariffs, service, s)}


def tariffs_for_plans(
    tariffs: Sequence[Tariff], service: Service, spans: Sequence[PlanSpan], who: str
) -> list[Tariff]:
    """The tariffs of ``service`` an account pays: per span, those of the span's scheme clipped to it (with
    the plan's named schedule when it has one). Raises :class:`PlanError` for days of a span without a
    tariff of its scheme."""
    result: list[Tariff] = []
    for span in spans:
        cursor = span.start
        own = sorted(_priced_for(tariffs, service, span.scheme), key=lambda t: t.valid_from)
        for tariff in own:
            start = max(cursor, tariff.valid_from)  # derived single-rate prices may overlap: first wins
            end = span.end if tariff.valid_to is None else min(span.end, tariff.valid_to)
            if start >= end:
                continue
            if start > cursor:
                break
            result.append(
                dataclasses.replace(
                    tariff,
                    valid_from=start,
                    valid_to=end,
                    schedule=span.schedule or tariff.schedule,
                    name=f"{tariff.label}, {span.describe()}",
                )
            )
            cursor = end
        if cursor < span.end:
            raise PlanError(
                f"{who}: {service} plan {span.describe()} has no {span.scheme} tariff for "
                f"{cursor}..{span.end}; import {span.scheme} prices for those days or change the plan"
            )
    return result


def tariffs_by_account(
    tariffs: list[Tariff],
    rows: list[PlanRow],
    period: BillingPeriod,
    accounts: Sequence[tuple[str, str]],
    meters_of: Mapping[tuple[str, str], Sequence[str]],
) -> tuple[list[Tariff], dict[str, tuple[Tariff, ...]]]:
    """The building's default-plan tariffs and, per account billed on another plan (its own or its
    meter's), all its tariffs. ``accounts``: (account, premise); ``meters_of``: (premise, service) → the
    meters linked there. Without plan rows and with one scheme per service, ``tariffs`` unchanged."""
    services = list(dict.fromkeys(t.service for t in tariffs))
    several = any(len({t.scheme for t in tariffs if t.service is s}) > 1 for s in services)
    if not rows and not several:
        return tariffs, {}
    by_key: dict[tuple[str, str, str], list[PlanRow]] = {}
    for row in rows:
        by_key.setdefault((row.account_no, row.meter_id, row.service), []).append(row)
    default: dict[Service, list[Tariff]] = {}
    default_spans = {}
    for service in services:
        spans = plan_spans(period, service, tariffs, [by_key.get(("", "", service.value), [])])
        default_spans[service] = [(p.start, p.end, p.scheme, p.schedule) for p in spans]
        default[service] = tariffs_for_plans(tariffs, service, spans, "building default plan")
    own_tariffs: dict[str, tuple[Tariff, ...]] = {}
    shared: dict[tuple, tuple[Tariff, ...]] = {}  # the same plans share one tuple, so one TariffBook
    # accounts whose plan rows say the same (level, start, scheme, schedule) get the same spans: computed
    # once per building (day by day, they were ≈ 0.15 ms an account)
    spans_of: dict[tuple, tuple[list[PlanSpan], bool]] = {}
    for account_no, premise_no in accounts:
        keys: dict[Service, tuple] = {}
        for service in services:
            meter_rows = [
                r
                for m in meters_of.get((premise_no, service.value), ())
                for r in by_key.get(("", m, service.value), [])
            ]
            account_rows = by_key.get((account_no, "", service.value), [])
            if not meter_rows and not account_rows:
                continue
            levels = [meter_rows, account_rows, by_key.get(("", "", service.value), [])]
            said = (
                service,
                *(tuple((r.level, r.valid_from, r.scheme, id(r.schedule)) for r in x) for x in levels),
            )
            if said not in spans_of:
                spans = plan_spans(period, service, tariffs, levels)
                key = [(p.start, p.end, p.scheme, p.schedule) for p in spans]
                spans_of[said] = (spans, key != default_spans[service])
            spans, differs = spans_of[said]
            if differs:
                keys[service] = (tuple((p.start, p.end, p.scheme, id(p.schedule)) for p in spans), spans)
        if not keys:
            continue
        memo = tuple((s.value, k[0]) for s, k in keys.items())
        if memo not in shared:
            own = dict(default)
            for service, (_, spans) in keys.items():
                own[service] = tariffs_for_plans(tariffs, service, spans, f"account {account_no}")
            shared[memo] = tuple(t for s in services for t in own[s])
        own_tariffs[account_no] = shared[memo]
    return [t for s in services for t in default[s]], own_tariffs
