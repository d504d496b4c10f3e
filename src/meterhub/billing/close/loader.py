"""Fill the engine's :class:`BuildingInput` for one building and period from the database.

Bulk reads per building, each one index scan over all its registers (``timeseries.bulk_reads``): the
registers of its linked meters once, one pass over their hourly rows giving ``period_totals`` and the
hourly series of meters whose premise may be billed on a zoned tariff or across a tariff change
(``period_hourly_bulk``: one ``bytea`` per series, used where the tariff registers do not suffice),
register values at the readings-window ends (or the
month boundaries) for meters read monthly (``register_values_at``) and their replacement acts
(``register_events``); the averaging history and counters from the building's closed periods;
residents weighted by days; house meters summed per service; V^кр where the building prepares hot
water itself.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from meterhub.billing.close.config_in_force import (
    common_property_methods_on,
    failed_since,
    impossibility_acts_on,
    meter_state_changes,
    meter_states_on,
    tariff_plan_rows,
)
from meterhub.billing.close.repository import (
    MeterLinkRow,
    accounts_in_period,
    building_services,
    counter_events,
    get_building,
    meter_links_in_period,
    normatives_on,
    residents_in_period,
    tariffs_in_period,
)
from meterhub.billing.close.results_store import common_property_history, volume_history
from meterhub.billing.money.opening_balances import check_after_cutover
from meterhub.billing.rules.building import BuildingInput
from meterhub.billing.rules.charges import AccountInput
from meterhub.billing.rules.common_property import CommonPropertyInput
from meterhub.billing.rules.meter_data import (
    SERVICE_REGISTERS,
    MeterData,
    MeterProblem,
    RegisterWindow,
    group_state,
    meter_data_from_hourly,
    meter_data_from_registers,
    meter_state_parts,
    meter_state_parts_hourly,
    meter_state_period,
    state_timeline,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.tariff_plans import tariffs_by_account
from meterhub.billing.rules.tariffs import Service, Tariff, tariff_parts
from meterhub.billing.rules.true_up import VOLUME_QUANTUM
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer, StatePart
from meterhub.billing.rules.zones import HourlySeries, Zone, ZoneScheme
from meterhub.timeseries.bulk_reads import (
    HourlyArrays,
    Register,
    RegisterValue,
    meter_registers_of,
    period_hourly_bulk,
    register_values_at,
)

__all__ = [
    "READINGS_WINDOW_DAY",
    "LoadedBuilding",
    "LoaderOptions",
    "TrueUpInput",
    "UnknownBuildingError",
    "load_building_input",
    "readings_window_end",
]

_METERED = {"electricity", "cold_water", "hot_water", "wastewater"}
_NO_VALUES: Mapping[str, list] = {}


class UnknownBuildingError(LookupError):
    """The building is not in the ``buildings`` table."""


@dataclass(frozen=True)
class LoaderOptions:
    register_max_age: timedelta = timedelta(days=3)
    """Without a readings window: a boundary register value may come from a reading at most this much
    older than the month boundary."""
    readings_window_day: int | None = 25
    """Meters read monthly (no hourly telemetry): readings are taken up to and including this day of the
    month (local time); a reading taken later counts for the next period (billing-rules.md §1.2, §7.1:
    "by the 25th"; the contract may set another day). The period's volume is the reading of its
    window minus the reading of the previous period's window. ``None``: readings at the calendar month
    boundaries (within ``register_max_age``)."""
    history_months: int = 12
    """Closed periods looked at for averages and consecutive-average counters."""
    electricity_failure_supplier_duty: bool = True
    """A failed or expired electricity meter is the supplier's to replace since 01.07.2020: averaged
    without the 3-period limit and never ×1.5 (ПП 354 п. 59 «г», billing-rules.md §1.5)."""
    true_up: bool = True
    """п. 61 true-up: a register meter billed by average in the preceding closed periods that has a
    reading again in this period's window is billed by meter (start register interpolated in time
    between the last valid reading and the new one when nothing was read in between [I]) and the
    averaged periods are trued-up (:class:`TrueUpInput`, booked by the close)."""
    skip_estimated_only_meters: bool = True
    """Leave out of the hourly read the meters whose hours the daily series shows to be estimated only
    (a meter read monthly: the rollup estimates its hours between readings; such a meter is billed by
    its register values anyway, see ``_has_telemetry``) — ``timeseries.bulk_reads.estimated_only_meters``.
    ``False`` reads every hourly row (the same input, slower: the reference for tests and benchmarks)."""


READINGS_WINDOW_DAY: int = LoaderOptions().readings_window_day or 25
"""The close's readings window (by the 25th, billing-rules.md §1.2): a monthly reading taken after the
previous period's window and up to this day of the month is the period's end reading."""


@dataclass(frozen=True)
class TrueUpInput:
    """An account × service whose run of averaged periods ends in this period (ПП 354 п. 61).

    ``actual``: consumption measured over the averaged run per zone [unit] (× the account's share);
    ``periods``: the averaged closed periods, oldest first; ``detail``: the readings used.
    """

    account: str
    service: Service
    actual: dict[Zone, Decimal]
    periods: tuple[BillingPeriod, ...]
    detail: str


@dataclass
class LoadedBuilding:
    input: BuildingInput
    warnings: list[str] = field(default_factory=list)
    meters: Counter[str] = field(default_factory=Counter)  # "hourly", "registers", problems…
    problem_meters: list[str] = field(default_factory=list)
    inputs_from: datetime | None = None
    """The earliest reading time the input depends on (for the change marker, ``input_changes``)."""
    inputs_to: datetime | None = None
    """The latest reading time it depends on; ``None`` when hourly meters had gaps that later data may
    fill (the period is then always rechecked)."""
    true_ups: list[TrueUpInput] = field(default_factory=list)
    """Averaged runs that end in this period (п. 61), for the close to book."""


def readings_window_end(period: BillingPeriod, time_zone: str, day: int) -> datetime:
    """The end of the period's readings window: local midnight after ``day`` (clamped to the month) [UTC]."""
    if not 1 <= day <= 31:
        raise ValueError(f"readings window day {day} is not a day of a month (1–31)")
    last = min(period.first_day + timedelta(days=day), period.end_day)
    return datetime(last.year, last.month, last.day, tzinfo=ZoneInfo(time_zone)).astimezone(ZoneInfo("UTC"))


def _has_telemetry(totals: dict[str, object]) -> bool:
    """Hourly rows that come from frequent readings, not only estimates spread between monthly ones."""
    return any(
        t.measured_hours or t.interpolated_hours or t.suspect_hours  # type: ignore[attr-defined]
        for t in totals.values()
    )


def _needs_hourly(tariffs: list[Tariff], service: str, period: BillingPeriod) -> ZoneScheme | None:
    """The finest zone scheme of the service's tariffs if an hourly series is needed, else None."""
    if service not in {s.value for s in Service}:
        return None
    parts = tariff_parts(tariffs, Service(service), period)
    schemes = {p.tariff.scheme for p in parts}
    if len(parts) == 1 and schemes == {ZoneScheme.SINGLE_RATE}:
        return None
    order = [ZoneScheme.SINGLE_RATE, ZoneScheme.TWO_ZONE, ZoneScheme.THREE_ZONE]
    return max(schemes, key=order.index)


_ZONE_COUNT: Mapping[ZoneScheme | None, int] = {None: 1, **{s: len(s.zones) for s in ZoneScheme}}


def _scheme_zone_count(scheme: ZoneScheme | None) -> int:
    return _ZONE_COUNT[scheme]


def _replacement(group: list[MeterData]) -> bool:
    """The group is one meter replaced by another inside the period: hourly meters whose links do not
    overlap, none suspect or expired, whose hours together cover the whole month."""
    if len(group) < 2 or any(m.source != "hourly" or m.total is None for m in group):
        return False
    if any(m.problem not in (None, MeterProblem.INCOMPLETE) for m in group):
        return False
    links = sorted((m.link for m in group), key=lambda link: link.valid_from or date.min)
    for before, after in itertools.pairwise(links):
        if before.valid_to is None or after.valid_from is None or before.valid_to > after.valid_from:
            return False
    return sum(m.hours_present for m in group) >= group[0].hours_expected


def _usable(group: list[MeterData]) -> bool:
    """All meters valid, or a replacement inside the period that together covers it."""
    return all(m.problem is None for m in group) or _replacement(group)


def _combine(
    group: list[MeterData],
    hourly: dict[tuple[str, str], HourlySeries],
    need: ZoneScheme | None,
    share: Decimal,
) -> MeterPeriod:
    """One premise's meters of a service → the account's :class:`MeterPeriod` (× the account's share)."""
    if not _usable(group):
        expired = any(m.problem == "verification_expired" for m in group)
        return MeterPeriod(MeterStatus.FAILED if expired else MeterStatus.NO_READINGS)
    if len(group) == 1:  # the usual premise: one meter (no set of zone sets to build)
        own = group[0].zones
        zone_count = len(own) if own else None
    else:
        zone_sets = {frozenset(m.zones) if m.zones else None for m in group}
        zone_count = len(next(iter(zone_sets))) if len(zone_sets) == 1 and None not in zone_sets else None
    with engine_context():
        if zone_count is not None and zone_count >= _scheme_zone_count(need):
            zones: dict[Zone, Decimal] = {}
            for m in group:
                for z, v in (m.zones or {}).items():
                    zones[z] = zones.get(z, Decimal(0)) + v * share
            return MeterPeriod(MeterStatus.VALID, zone_volumes=zones)
        if need is not None and all(m.hourly_key in hourly for m in group):
            series = [hourly[m.hourly_key] for m in group if m.hourly_key]
            starts = np.concatenate([s.hour_starts_us for s in series])
            if share == 1:  # int64 already (the series are HourlySeries.from_micro's): no second copy
                micro = np.concatenate([s.volume_micro for s in series if s.volume_micro is not None])
                return MeterPeriod(MeterStatus.VALID, hourly=HourlySeries(starts, volume_micro=micro))
            volumes = tuple(
                Decimal(int(v)) / 1_000_000 * share for s in series for v in (s.volume_micro or ())
            )
            return MeterPeriod(MeterStatus.VALID, hourly=HourlySeries(starts, volumes=volumes))
        if len(group) == 1:
            total = (Decimal(0) + (group[0].total or Decimal(0))) * share
        else:
            total = sum((m.total or Decimal(0) for m in group), Decimal(0)) * share
        return MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: total})


def _fill_run_starts(
    conn: psycopg.Connection,
    period: BillingPeriod,
    tz: str,
    day: int,
    window: RegisterWindow,
    links: list[MeterLinkRow],
    runs: dict[tuple[str, str], int],
    values_by_meter: dict[str, dict[str, list]],
    run_zones: dict[tuple[str, str], tuple[int, dict[Zone, Decimal], str]],
    registers: Sequence[Register],
) -> None:
    """For register meters ending an averaged run (п. 61): the last valid reading before the run (in
    the readings window of the last period before it), the start register of this period (its reading,
    or the value interpolated in time between that reading and this period's [I]); fills the missing
    start into ``values_by_meter`` and the run's measured zone volumes into ``run_zones``."""
    by_run: dict[int, list[MeterLinkRow]] = {}
    for link in links:
        by_run.setdefault(runs[(link.premise_no or "", link.service)], []).append(link)
    for run, group in by_run.items():
        before = period
        for _ in range(run + 1):
            before = before.previous()
        at = readings_window_end(before, tz, day)
        after = readings_window_end(before.previous(), tz, day)
        last = register_values_at(
            conn, sorted({lk.meter_id for lk in group}), [at], max_age=at - after, registers=registers
        )
        for link in group:
            values = values_by_meter.get(link.meter_id, {})
            filled: dict[str, list] = {}
            run_values: dict[str, list] = {}
            for register, (start, end) in values.items():
                first = last.get((link.meter_id, register), [None])[0]
                if first is None or end is None or (window.end_after and end.ts <= window.end_after):
                    break
                if start is None or (window.start_after and start.ts <= window.start_after):
                    start = _interpolated(link, first, end, window.start_at)
                    if start is None:
                        break
                filled[register] = [start, end]
                run_values[register] = [first, start]
            else:
                if not filled:
                    continue
                measured = meter_data_from_registers(link, run_values, period.end_day)
                if not measured.valid:
                    continue
                zones = measured.zones or {Zone.SINGLE: measured.total or Decimal(0)}
                first_ts = min(v[0].ts for v in run_values.values())
                detail = (
                    f"meter {link.meter_id}: last valid reading {first_ts.isoformat()}, run ends "
                    f"{window.start_at.isoformat()}"
                )
                values_by_meter[link.meter_id] = {**values, **filled}
                run_zones[(link.premise_no, link.service)] = (run, dict(zones), detail)


def _interpolated(
    link: MeterLinkRow, first: RegisterValue, end: RegisterValue, at: datetime
) -> RegisterValue | None:
    """The register at ``at`` on the straight line between two readings (rollover at 10^digits)."""
    if not first.ts < at < end.ts:
        return None
    with engine_context():
        v0, v1 = Decimal(repr(first.value)), Decimal(repr(end.value))
        delta = v1 - v0
        if delta < 0 and link.register_digits:
            delta += Decimal(10) ** link.register_digits
        if delta < 0:
            return None
        fraction = Decimal((at - first.ts) // timedelta(microseconds=1)) / Decimal(
            (end.ts - first.ts) // timedelta(microseconds=1)
        )
        value = (v0 + delta * fraction).quantize(VOLUME_QUANTUM)
        if link.register_digits and value >= Decimal(10) ** link.register_digits:
            value -= Decimal(10) ** link.register_digits
    return RegisterValue(value, at)  # type: ignore[arg-type]  # exact; meter_data keeps Decimals


def _run_start(period: BillingPeriod, run: int) -> date:
    """The first day of the period before a run of ``run`` averaged periods ending before ``period``."""
    first = period
    for _ in range(run + 1):
        first = first.previous()
    return first.first_day


def _splits_by_register(link: MeterLinkRow, first_day: date, end_day: date) -> bool:
    """Whether :func:`_state_split` reads this link's registers at its state changes (a link covering
    the month; the caller leaves out hourly meters and meters with replacement acts)."""
    return (link.valid_from is None or link.valid_from <= first_day) and (
        link.valid_to is None or link.valid_to >= end_day
    )


def _readings_at_state_changes(
    conn: psycopg.Connection,
    meter_ids: Collection[str],
    timelines: Mapping[str, list[tuple[date, date, str]]],
    values_by_meter: Mapping[str, Mapping[str, list]],
    tz: str,
    registers: Sequence[Register],
) -> dict[str, dict[tuple[str, str], list[RegisterValue | None]]]:
    """meter → its registers' values at the local midnights starting its state changes: the latest
    reading at or before each, younger than the meter's start reading (or 3 days before the first change
    without one). One read for all meters whose changes fall on the same days (a read per meter cost two
    statements each); the widest age is read and each meter's own limit applied after."""
    zone = ZoneInfo(tz)
    asked: dict[tuple[datetime, ...], list[tuple[str, timedelta]]] = {}
    for meter_id in sorted(meter_ids):
        events = tuple(datetime.combine(start, time(), zone) for start, _, _ in timelines[meter_id][1:])
        boundary = values_by_meter.get(meter_id, {})
        starts = [v[0] for v in boundary.values() if v[0] is not None]
        lowest = min((v.ts for v in starts), default=events[0] - timedelta(days=3))
        asked.setdefault(events, []).append((meter_id, events[-1] - lowest + timedelta(seconds=1)))
    result: dict[str, dict[tuple[str, str], list[RegisterValue | None]]] = {}
    for events, meters in asked.items():
        read = register_values_at(
            conn,
            [m for m, _ in meters],
            list(events),
            max_age=max(age for _, age in meters),
            registers=registers,
        )
        utc = [e.astimezone(ZoneInfo("UTC")) for e in events]
        for meter_id, age in meters:
            result[meter_id] = {
                key: [
                    v if v is not None and v.ts > at - age else None
                    for v, at in zip(values, utc, strict=True)
                ]
                for key, values in read.items()
                if key[0] == meter_id
            }
    return result


def _state_split(
    group: list[MeterData],
    timelines: dict[str, list[tuple[date, date, str]]],
    values_by_meter: dict[str, dict[str, list]],
    events_by_meter: dict[str, dict[str, list]],
    at_changes: Mapping[str, dict[tuple[str, str], list[RegisterValue | None]]],
    window: RegisterWindow | None,
    period: BillingPeriod,
    tz: str,
    hourly_meters: Collection[str],
    hourly_series: Mapping[tuple[str, str], HourlyArrays],
    *,
    supplier_duty: bool,
    min_zones: int,
    share: Decimal,
) -> tuple[StatePart, ...] | None:
    """The state parts of a premise's single meter whose state changes inside the period
    (ПП 354 п. 59 «а» from the date of the event), or None when the period is not split here (no change,
    several meters, a replacement act, a link not covering the month, an hourly meter without a
    series). Parts without a metered one (no valid reading at the event, or only changes between
    non-working states) are not a split either: the caller keeps the whole-month state.
    ``at_changes``: :func:`_readings_at_state_changes` of the building's register meters that split."""
    if len(group) != 1:
        return None
    link = group[0].link
    timeline = timelines.get(link.meter_id)
    if (
        timeline is None
        or events_by_meter.get(link.meter_id)
        or not _splits_by_register(link, period.first_day, period.end_day)
    ):
        return None
    zone = ZoneInfo(tz)
    if link.meter_id in hourly_meters:
        arrays = hourly_series.get((link.meter_id, SERVICE_REGISTERS[link.service].total))
        if arrays is None:
            return None
        return meter_state_parts_hourly(
            link,
            timeline,
            HourlySeries.from_micro(arrays.hour_starts_us, arrays.volume_micro),
            zone,
            supplier_duty=supplier_duty,
            share=share,
        )
    events = timeline[1:]
    boundary = values_by_meter.get(link.meter_id, {})
    at_events = at_changes[link.meter_id]
    bounds: dict[str, list] = {}
    for register in set(boundary) | {r for _, r in at_events}:
        first, last = boundary.get(register, [None, None])
        if window is not None:
            if first is not None and window.start_after is not None and first.ts <= window.start_after:
                first = None
            if last is not None and window.end_after is not None and last.ts <= window.end_after:
                last = None
        inner = [
            v if v is not None and (first is None or v.ts > first.ts) else None
            for v in at_events.get((link.meter_id, register), [None] * len(events))
        ]
        bounds[register] = [first, *inner, last]
    return meter_state_parts(
        link, timeline, bounds, supplier_duty=supplier_duty, min_zones=min_zones, share=share
    )


def load_building_input(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    options: LoaderOptions | None = None,
) -> LoadedBuilding:
    """The engine input of one building for one period, plus the loader's warnings and meter counts."""
    options = options or LoaderOptions()
    building = get_building(conn, building_id)
    if building is None:
        raise UnknownBuildingError(f"building {building_id!r} is not in the buildings table; import it first")
    check_after_cutover(conn, building_id, period)
    tz = building.time_zone
    start, end = period.bounds_utc(tz)
    services = building_services(conn, building_id)
    tariffs = tariffs_in_period(conn, building_id, period)
    plan_rows = tariff_plan_rows(conn, building_id, period)
    dated_methods = common_property_methods_on(conn, building_id, period.first_day)
    services = {s: dated_methods.get(s, m) for s, m in services.items()}
    normatives = normatives_on(conn, building_id, period.first_day)
    accounts = accounts_in_period(conn, building_id, period)
    residents = residents_in_period(conn, building_id, period)
    day = options.readings_window_day
    window: RegisterWindow | None = None
    since = None
    if day is not None:
        previous = period.previous()
        previous_end = readings_window_end(previous, tz, day)
        window = RegisterWindow(  # start in the previous period's window, end in this period's
            start_at=previous_end,
            end_at=readings_window_end(period, tz, day),
            start_after=readings_window_end(previous.previous(), tz, day),
            end_after=previous_end,
        )
        instants = [window.start_at, window.end_at]
        max_age = window.end_at - (window.start_after or window.start_at)
        since = window.start_at.astimezone(ZoneInfo(tz)).date() - timedelta(days=1)
        current_window_day = window.end_at.astimezone(ZoneInfo(tz)).date()
        state_day = current_window_day - timedelta(days=1)
    else:
        instants = [start, end]
        max_age = options.register_max_age
        state_day = period.end_day - timedelta(days=1)
    links = [
        link for link in meter_links_in_period(conn, building_id, period, since) if link.service in _METERED
    ]
    loaded = LoadedBuilding(BuildingInput(building_id, building.time_zone, Decimal(0), Decimal(0), (), ()))
    if (
        "heat" in services
        and not conn.execute(
            "SELECT 1 FROM heating_configs WHERE building_id = %s LIMIT 1", (building_id,)
        ).fetchone()
    ):
        loaded.warnings.append(
            f"building {building_id}: heat is not billed (no heating configuration, heating_configs)"
        )

    meters_of: dict[tuple[str, str], list[str]] = {}
    for link in links:
        if link.premise_no is not None:
            meters_of.setdefault((link.premise_no, link.service), []).append(link.meter_id)
    default_tariffs, account_tariffs = tariffs_by_account(
        tariffs, plan_rows, period, [(a.account_no, a.premise_no) for a in accounts], meters_of
    )
    needs = {s: _needs_hourly(default_tariffs, s, period) for s in services if s in _METERED}
    metered = [s for s in services if s in _METERED]
    account_needs: dict[tuple[str, str], ZoneScheme | None] = {}
    need_of_plan: dict[tuple[int, str], ZoneScheme | None] = {}  # accounts on one plan share its tuple
    for acc_no, own in account_tariffs.items():
        for s in metered:
            plan_key = (id(own), s)
            if plan_key not in need_of_plan:
                need_of_plan[plan_key] = _needs_hourly(list(own), s, period)
            account_needs[(acc_no, s)] = need_of_plan[plan_key]
    premise_needs: dict[tuple[str, str], ZoneScheme | None] = {}
    for acc in accounts:
        for s in metered:
            need = account_needs.get((acc.account_no, s), needs[s]) if account_needs else needs[s]
            if need is None:
                continue  # one zone: never more than what the premise has
            key = (acc.premise_no, s)
            if _scheme_zone_count(need) > _scheme_zone_count(premise_needs.get(key)):
                premise_needs[key] = need
    # one read of the registers, one pass over their hourly rows (totals, and the series of the meters
    # whose premise and service may need them: a zoned tariff or a tariff change inside the month)
    meter_ids = sorted({link.meter_id for link in links})
    registers = meter_registers_of(conn, meter_ids)
    # meter states dated inside the month and verification dates inside it split the month (п. 59 «а»)
    first_day, end_day = period.first_day, period.end_day  # properties: computed once, not per meter
    changes = meter_state_changes(conn, meter_ids, first_day, end_day)
    due_inside = {
        link.meter_id: link.verification_due
        for link in links
        if link.verification_due is not None and first_day < link.verification_due < end_day
    }
    timelines: dict[str, list[tuple[date, date, str]]] = {}
    if changes or due_inside:
        initial = meter_states_on(conn, set(changes) | set(due_inside), first_day)
        for meter_id in set(changes) | set(due_inside):
            timeline = state_timeline(
                first_day,
                end_day,
                initial.get(meter_id, ("working", first_day))[0],
                changes.get(meter_id, ()),
                due_inside.get(meter_id),
            )
            if len(timeline) > 1:
                timelines[meter_id] = timeline
    may_need_series = {
        link.meter_id
        for link in links
        if link.premise_no is not None
        and (premise_needs.get((link.premise_no, link.service)) is not None or link.meter_id in timelines)
    }
    hourly_read = period_hourly_bulk(
        conn,
        meter_ids,
        start,
        end,
        series_of={(r.meter_id, r.register) for r in registers if r.meter_id in may_need_series},
        registers=registers,
        skip_estimated_only=options.skip_estimated_only_meters,
    )
    totals = hourly_read.totals
    by_meter: dict[str, dict[str, object]] = {}
    for (meter, register), total in totals.items():
        by_meter.setdefault(meter, {})[register] = total
    by_meter = {m: t for m, t in by_meter.items() if _has_telemetry(t)}
    without_hourly = [m for m in meter_ids if m not in by_meter]
    values = (
        register_values_at(conn, without_hourly, instants, max_age=max_age, registers=registers)
        if without_hourly
        else {}
    )
    values_by_meter: dict[str, dict[str, list]] = {}
    for (meter, register), vals in values.items():
        values_by_meter.setdefault(meter, {})[register] = vals
    events_by_meter: dict[str, dict[str, list]] = {}
    for (meter, register), evs in counter_events(conn, without_hourly, instants[0], instants[1]).items():
        events_by_meter.setdefault(meter, {})[register] = evs
    history = volume_history(conn, building_id, period, options.history_months)
    runs: dict[tuple[str, str], int] = {}
    if options.true_up and window is not None and day is not None:
        for acc in accounts:
            for service in services:
                h = history.get((acc.account_no, service))
                if h is not None and h.consecutive_average and h.metered:
                    key = (acc.premise_no, service)
                    runs[key] = max(runs.get(key, 0), h.consecutive_average)
    register_meters = set(without_hourly)
    if runs:  # п. 61 trues up missing readings (case «б»), never the register of a failed meter (case «а»)
        oldest = period
        for _ in range(max(runs.values()) + 1):
            oldest = oldest.previous()
        failed = failed_since(conn, [lk.meter_id for lk in links], oldest.first_day)
        runs = {
            key: run
            for key, run in runs.items()
            if not any(
                lk.meter_id in failed and failed[lk.meter_id] >= _run_start(period, run)
                for lk in links
                if (lk.premise_no, lk.service) == key
            )
        }
    run_candidates = [
        link
        for link in links
        if link.meter_id in register_meters
        and link.premise_no is not None
        and (link.premise_no, link.service) in runs
        and not events_by_meter.get(link.meter_id)
    ]
    run_zones: dict[tuple[str, str], tuple[int, dict[Zone, Decimal], str]] = {}
    if run_candidates and window is not None and day is not None:
        _fill_run_starts(
            conn, period, tz, day, window, run_candidates, runs, values_by_meter, run_zones, registers
        )
    data: list[MeterData] = []
    groups: dict[tuple[str, str], list[MeterData]] = {}  # premise × service → its meters
    house: dict[str, list[MeterData]] = {}  # service → the house meters
    counts: dict[str, int] = {}  # into loaded.meters at the end, in the order first met
    for link in links:
        in_month = link.valid_to is None or link.valid_to > first_day
        hourly_totals = by_meter.get(link.meter_id)
        if hourly_totals is not None:
            if not in_month:
                continue  # linked only in the readings window before the month: not an hourly concern
            d = meter_data_from_hourly(link, hourly_totals, end_day)  # type: ignore[arg-type]
        else:
            events = events_by_meter.get(link.meter_id)
            kinds = {e.kind for evs in events.values() for e in evs} if events else ()
            if not in_month and "removal" not in kinds:
                continue  # its last window was the previous period's
            if (
                window is not None
                and not kinds
                and link.valid_from is not None
                and link.valid_from >= current_window_day
            ):
                continue  # installed after this period's window: its readings count from the next one
            d = meter_data_from_registers(
                link, values_by_meter.get(link.meter_id, _NO_VALUES), end_day, events=events, window=window
            )
        data.append(d)
        if link.premise_no is None:
            house.setdefault(link.service, []).append(d)
        else:
            groups.setdefault((link.premise_no, link.service), []).append(d)
        if d.problem is None:
            counts[d.source] = counts.get(d.source, 0) + 1
        else:
            problem = str(d.problem)
            counts[problem] = counts.get(problem, 0) + 1
            loaded.problem_meters.append(d.detail)
    loaded.meters.update(counts)

    states = meter_states_on(conn, meter_ids, state_day)
    impossible = impossibility_acts_on(conn, building_id, period.end_day - timedelta(days=1))
    wanted = {
        m.hourly_key
        for key, group in groups.items()
        if premise_needs.get(key) is not None
        for m in group
        if _usable(group)
        and m.hourly_key
        and (m.zones is None or len(m.zones) < _scheme_zone_count(premise_needs[key]))
    }
    hourly = {
        k: HourlySeries.from_micro(a.hour_starts_us, a.volume_micro)
        for k in sorted(k for k in wanted if k)
        if (a := hourly_read.series.get(k)) is not None
    }

    at_changes = (
        _readings_at_state_changes(
            conn,
            {
                link.meter_id
                for link in links
                if link.meter_id in timelines
                and link.meter_id not in by_meter
                and not events_by_meter.get(link.meter_id)
                and _splits_by_register(link, first_day, end_day)
            },
            timelines,
            values_by_meter,
            tz,
            registers,
        )
        if timelines
        else {}
    )
    # once per building, not per account: each service's engine enum, per-person normative, default need
    billed = [
        (service, Service(service), normatives.get((service, "per_person")), needs.get(service))
        for service in services
        if service in _METERED or service == "maintenance"
    ]
    supplier_duty = options.electricity_failure_supplier_duty
    account_inputs = []
    for acc in accounts:
        account_no, premise_no, share = acc.account_no, acc.premise_no, acc.share
        consumers = []
        for service, kind, normative, default_need in billed:
            if kind is Service.MAINTENANCE:
                consumers.append(ServiceConsumer(kind))
                continue
            key = (premise_no, service)
            group = groups.get(key)
            meter = None
            if group:
                need = (
                    account_needs.get((account_no, service), default_need) if account_needs else default_need
                )
                parts = (
                    _state_split(
                        group,
                        timelines,
                        values_by_meter,
                        events_by_meter,
                        at_changes,
                        window,
                        period,
                        tz,
                        by_meter,
                        hourly_read.series,
                        supplier_duty=supplier_duty,
                        min_zones=_scheme_zone_count(need),
                        share=share,
                    )
                    if timelines
                    else None
                )
                if parts is not None and any(p.status is MeterStatus.VALID for p in parts) and len(parts) > 1:
                    parts_meter = group[0].link.meter_id
                    invalid = next(p for p in parts if p.status is not MeterStatus.VALID)
                    meter = MeterPeriod(invalid.status, being_replaced=invalid.being_replaced, parts=parts)
                    loaded.meters["state split"] += 1
                    loaded.warnings.append(
                        f"account {account_no}, {service}: meter {parts_meter} changed state "
                        "inside the period (meter_states, verification date): "
                        + ", ".join(f"{p.start}..{p.end - timedelta(days=1)} {p.status}" for p in parts)
                        + " (ПП 354 п. 59 «а»)"
                    )
                elif states and (state := group_state(group, states, state_day)) is not None:
                    meter = meter_state_period(state[0], service, supplier_duty)
                    loaded.meters[f"state {state[0]}"] += 1
                    loaded.warnings.append(
                        f"account {account_no}, {service}: meter {state[2]} {state[0]} since {state[1]} "
                        f"(meter_states): {meter.status} (ПП 354 п. 59 «а»)"
                    )
                else:
                    meter = _combine(group, hourly, need, share)
                    run = run_zones.get(key) if run_zones and len(group) == 1 else None
                    if run is not None and meter.status is MeterStatus.VALID:
                        h = history.get((account_no, service))
                        if h is not None and h.consecutive_average == run[0]:
                            periods = [period]
                            for _ in range(run[0]):
                                periods.append(periods[-1].previous())
                            with engine_context():
                                actual = {z: v * share for z, v in run[1].items()}
                            loaded.true_ups.append(
                                TrueUpInput(account_no, kind, actual, tuple(reversed(periods[1:])), run[2])
                            )
                if meter.status is not MeterStatus.VALID:
                    h = history.get((account_no, service))
                    if h is not None:  # the averaging history, whatever made the meter invalid
                        meter = replace(
                            meter, history=h.metered, consecutive_average_periods=h.without_readings
                        )
            consumers.append(
                ServiceConsumer(
                    kind, meter, normative=normative, meter_obligatory_and_possible=key not in impossible
                )
            )
        account_inputs.append(
            AccountInput(
                account_no,
                acc.area,
                residential=acc.residential,
                residents=residents.get(account_no, Decimal(0)),
                owners=acc.owners,
                services=tuple(consumers),
            )
        )

    cp_history = common_property_history(conn, building_id, period, options.history_months)
    common = []
    for service, method in services.items():
        if method is None or service not in _METERED:
            continue
        normative = normatives.get((service, "common_per_m2"))
        if normative is None:
            raise ValueError(
                f"building {building_id}: {service} common property needs a 'common_per_m2' normative "
                f"in force on {period.first_day}; import normatives"
            )
        meters = house.get(service, [])
        house_volume = None
        if meters and all(m.valid for m in meters):
            house_volume = sum((m.total or Decimal(0) for m in meters), Decimal(0))
        elif meters:
            loaded.warnings.append(
                f"building {building_id}, {service}: house meter without a valid reading "
                f"({'; '.join(m.detail for m in meters if not m.valid)})"
            )
        past, consecutive = cp_history.get(service, ([], 0))
        preparation: Decimal | None = Decimal(0)
        if service == "cold_water" and building.prepares_hot_water:
            hot = house.get("hot_water", [])
            if hot and all(m.valid for m in hot):
                preparation = sum((m.total or Decimal(0) for m in hot), Decimal(0))
            else:
                preparation = None  # the engine takes Σ hot water of the premises + its common property
        common.append(
            CommonPropertyInput(
                Service(service),
                normative,
                method=method,
                house_volume=house_volume,
                hot_water_preparation_volume=preparation,
                history=tuple(past),
                consecutive_average_periods=consecutive,
            )
        )
    loaded.input = BuildingInput(
        building_id,
        building.time_zone,
        building.total_area,
        building.common_area,
        tuple(account_inputs),
        tuple(default_tariffs),
        tuple(common),
        account_tariffs,
    )
    for d in data:
        if d.problem is not None and d.problem.value in ("suspect_data", "verification_expired"):
            loaded.warnings.append(f"building {building_id}: {d.detail}")
    lowest = window.start_after if window is not None and window.start_after else start - max_age
    loaded.inputs_from = min(lowest, instants[0], start)
    gaps = any(
        d.source == "hourly" and d.problem in (MeterProblem.INCOMPLETE, MeterProblem.NO_DATA) for d in data
    )
    loaded.inputs_to = None if gaps else end
    return loaded
