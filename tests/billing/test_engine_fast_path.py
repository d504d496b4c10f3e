"""The fast path of ``compute_building_charges`` gives exactly the reference path's result.

Random buildings (areas, residents, owners, residential or not; meters valid with registers or hourly
series, failed, without readings, absent; histories and averaging counts; hourly series across time zones
and a DST month, with micro-unit or Decimal volumes; tariffs single-, two- and three-zone, weekday
schedules with holidays, tariff changes inside the month, per-account tariff plans, a wrong price basis;
common-property methods, house volumes, V^кр; rounding modes and volume rules). The oracle is the
reference path (``fast=False``): every account through ``compute_account_charges``. Equality is of the
whole ``BuildingCharges`` — ``==`` and ``repr`` (so each ``Decimal`` keeps its exponent, e.g. ``4.50``
is not ``4.5``, and dicts their order) — or of the error both raise.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.building import BuildingInput, compute_building_charges
from meterhub.billing.rules.charges import AccountInput, BillingRules
from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    CommonPropertyRounding,
    CommonPropertyRules,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer, StatePart, VolumeRules
from meterhub.billing.rules.zones import (
    DEFAULT_SCHEDULES,
    DayType,
    HourlySeries,
    Zone,
    ZoneInterval,
    ZoneSchedule,
    ZoneScheme,
)

D = Decimal
TIME_ZONES = ["Europe/Moscow", "Asia/Omsk", "Europe/Berlin", "Asia/Vladivostok", "Europe/Kaliningrad"]
PERIODS = [BillingPeriod(2026, 1), BillingPeriod(2026, 3), BillingPeriod(2025, 10), BillingPeriod(2026, 2)]
WEEKEND_NIGHT = ZoneSchedule(
    "weekend-night",
    ZoneScheme.TWO_ZONE,
    (ZoneInterval(Zone.DAY, 7, 23), ZoneInterval(Zone.NIGHT, 23, 7)),
    day_intervals=((DayType.SATURDAY, (ZoneInterval(Zone.NIGHT, 0, 24),)),),
    holidays=(date(2026, 1, 1), date(2026, 1, 2), date(2026, 3, 9), date(2025, 10, 6)),
)
REGISTERS = {
    ZoneScheme.SINGLE_RATE: (Zone.SINGLE,),
    ZoneScheme.TWO_ZONE: (Zone.DAY, Zone.NIGHT),
    ZoneScheme.THREE_ZONE: (Zone.PEAK, Zone.NIGHT, Zone.SEMI_PEAK),
}
RESOURCES = (Service.ELECTRICITY, Service.COLD_WATER, Service.HOT_WATER, Service.WASTEWATER)


def rare(draw: st.DrawFn, n: int) -> bool:
    """True about once in ``n + 1`` draws (a middle value: hypothesis favours the bounds)."""
    return draw(st.integers(0, n)) == n // 2


def decimals(places: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=0, max_value=high, places=places, allow_nan=False, allow_infinity=False)


amounts = st.one_of(decimals(0, 500), decimals(2, 500), decimals(3, 500), decimals(6, 500))
prices = st.one_of(decimals(2, 300), decimals(6, 300), st.sampled_from([D("7.85"), D("3.47"), D("0.005")]))


@st.composite
def tariffs_of(
    draw: st.DrawFn, service: Service, period: BillingPeriod, scheme: ZoneScheme | None = None
) -> tuple[Tariff, ...]:
    """One tariff for the month, or two with a change on a random day (rarely a wrong price basis)."""
    if service is Service.ELECTRICITY:
        scheme = scheme or draw(st.sampled_from(list(ZoneScheme)))
        schedule = DEFAULT_SCHEDULES[scheme]
        if scheme is ZoneScheme.TWO_ZONE and draw(st.booleans()):
            schedule = WEEKEND_NIGHT
    else:
        scheme, schedule = ZoneScheme.SINGLE_RATE, DEFAULT_SCHEDULES[ZoneScheme.SINGLE_RATE]
    basis = PriceBasis.PER_M2 if service is Service.MAINTENANCE else PriceBasis.PER_UNIT
    if rare(draw, 150):
        basis = PriceBasis.PER_UNIT if basis is PriceBasis.PER_M2 else PriceBasis.PER_M2
        scheme, schedule = ZoneScheme.SINGLE_RATE, DEFAULT_SCHEDULES[ZoneScheme.SINGLE_RATE]

    def tariff(valid_from: date, valid_to: date | None) -> Tariff:
        zone_prices = {z: draw(prices) for z in scheme.zones}
        if scheme is not ZoneScheme.SINGLE_RATE and not rare(draw, 8):
            zone_prices[Zone.SINGLE] = draw(prices)
        return Tariff(service, valid_from, zone_prices, valid_to, schedule=schedule, basis=basis)

    if rare(draw, 3):
        change = period.first_day.replace(day=draw(st.integers(2, 28)))
        return (tariff(date(2020, 1, 1), change), tariff(change, None))
    return (tariff(date(2020, 1, 1), None),)


@st.composite
def hourly_series(draw: st.DrawFn, period: BillingPeriod, tz: str) -> HourlySeries:
    starts = np.array([int(ts.timestamp()) * 1_000_000 for ts in period.utc_hour_starts(tz)], dtype=np.int64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    keep = rng.random(len(starts)) < draw(st.sampled_from([1.0, 1.0, 0.9, 0.3]))
    starts = starts[keep]
    if rare(draw, 150):  # an hour outside the month: both paths must refuse it
        starts = np.append(starts, starts[-1] + 40 * 86_400_000_000) if starts.size else starts
    micro = rng.integers(0, 3_000_000, size=len(starts), dtype=np.int64)
    if rare(draw, 5):
        return HourlySeries(starts, volumes=tuple(D(int(v)).scaleb(-6) for v in micro))
    return HourlySeries.from_micro(starts, micro)


@st.composite
def meters(
    draw: st.DrawFn, service: Service, period: BillingPeriod, tz: str, scheme: ZoneScheme
) -> MeterPeriod | None:
    kind = draw(
        st.sampled_from(["none", "registers", "registers", "registers", "hourly", "invalid", "split"])
    )
    if kind == "none":
        return None
    if kind == "split":  # the meter's state changes inside the month (ПП 354 п. 59 «а»)
        zones = REGISTERS[scheme] if service is Service.ELECTRICITY else (Zone.SINGLE,)
        event = period.first_day + timedelta(days=draw(st.integers(1, period.days - 1)))
        working_first = draw(st.booleans())
        bounds = [(period.first_day, event), (event, period.end_day)]
        parts = []
        for i, (start, end) in enumerate(bounds):
            if (i == 0) == working_first:
                parts.append(StatePart(start, end, MeterStatus.VALID, {z: draw(amounts) for z in zones}))
            else:
                parts.append(StatePart(start, end, MeterStatus.FAILED, being_replaced=draw(st.booleans())))
        return MeterPeriod(
            MeterStatus.FAILED,
            history=draw(st.lists(st.fixed_dictionaries({z: amounts for z in zones}), max_size=7)),
            consecutive_average_periods=draw(st.integers(0, 4)),
            parts=tuple(parts),
        )
    if kind == "hourly" and service is Service.ELECTRICITY:
        return MeterPeriod(MeterStatus.VALID, hourly=draw(hourly_series(period, tz)))
    if kind in ("registers", "hourly"):
        if rare(draw, 5):
            scheme = draw(st.sampled_from(list(ZoneScheme)))
        zones = REGISTERS[scheme] if service is Service.ELECTRICITY else (Zone.SINGLE,)
        volumes: dict = {z: draw(amounts) for z in zones}
        if rare(draw, 10):  # the loader's other spellings: str keys, int or str values
            volumes = {str(z): str(v) for z, v in volumes.items()}
        if rare(draw, 300):
            volumes[zones[0]] = D("-1.5")  # a negative register delta: both paths refuse it
        return MeterPeriod(MeterStatus.VALID, zone_volumes=volumes)
    zones = REGISTERS[scheme] if service is Service.ELECTRICITY else (Zone.SINGLE,)
    history = draw(st.lists(st.fixed_dictionaries({z: amounts for z in zones}), max_size=7))
    return MeterPeriod(
        draw(st.sampled_from([s for s in MeterStatus if s is not MeterStatus.VALID])),
        history=history,
        consecutive_average_periods=draw(st.integers(0, 4)),
        being_replaced=draw(st.booleans()),
    )


@st.composite
def accounts(
    draw: st.DrawFn, number: int, period: BillingPeriod, tz: str, scheme: ZoneScheme
) -> AccountInput:
    consumers = []
    for service in RESOURCES:
        if rare(draw, 5):
            continue
        meter = (
            None
            if service is Service.WASTEWATER and draw(st.booleans())
            else draw(meters(service, period, tz, scheme))
        )
        consumers.append(
            ServiceConsumer(
                service,
                meter,
                normative=draw(st.sampled_from([D("4.86"), D("100"), D("3.5100"), 2]))
                if not rare(draw, 200)
                else None,
                meter_obligatory_and_possible=draw(st.booleans()),
                repeat_access_refusal=rare(draw, 6),
            )
        )
    if not rare(draw, 4):
        consumers.insert(draw(st.integers(0, len(consumers))), ServiceConsumer(Service.MAINTENANCE))
    residents = draw(st.one_of(st.integers(0, 5), st.sampled_from([D(0), D(83) / D(31), D("2.5"), D(3)])))
    return AccountInput(
        f"LS-{number}",
        draw(st.one_of(decimals(2, 150), decimals(4, 150), decimals(0, 150))),
        residential=not rare(draw, 6),
        residents=residents,
        owners=draw(st.integers(0, 2)),
        services=tuple(consumers),
    )


@st.composite
def buildings(draw: st.DrawFn) -> tuple[BuildingInput, BillingPeriod, BillingRules]:
    period = draw(st.sampled_from(PERIODS))
    tz = draw(st.sampled_from(TIME_ZONES))
    scheme = draw(st.sampled_from(list(ZoneScheme)))
    tariffs = tuple(t for s in (*RESOURCES, Service.MAINTENANCE) for t in draw(tariffs_of(s, period, scheme)))
    accs = [draw(accounts(i, period, tz, scheme)) for i in range(draw(st.integers(1, 8)))]
    own = {
        a.account: tuple(
            t for s in (*RESOURCES, Service.MAINTENANCE) for t in draw(tariffs_of(s, period, scheme))
        )
        for a in accs
        if rare(draw, 4)
    }
    area_sum = sum((a.area for a in accs), D(0))
    total_area = area_sum if not rare(draw, 4) else area_sum + draw(decimals(2, 50))
    if total_area <= 0:
        total_area = D("1.00")
    common = []
    for service in (Service.ELECTRICITY, Service.COLD_WATER, Service.HOT_WATER):
        if draw(st.booleans()):
            common.append(
                CommonPropertyInput(
                    service,
                    draw(st.sampled_from([D("1.2"), D("0.03"), D("0.0200")])),
                    method=draw(st.sampled_from(list(CommonPropertyMethod))),
                    house_volume=draw(st.one_of(st.none(), decimals(3, 5000))),
                    hot_water_preparation_volume=draw(st.sampled_from([D(0), None, D("12.5")]))
                    if service is Service.COLD_WATER
                    else D(0),
                    history=draw(st.lists(decimals(2, 300), max_size=7)),
                    consecutive_average_periods=draw(st.integers(0, 4)),
                )
            )
    rules = BillingRules(
        VolumeRules(
            coefficient_after_failed_meter=draw(st.booleans()),
            owners_when_nobody_resides=draw(st.booleans()),
            non_residential_normative=not rare(draw, 40),
        ),
        CommonPropertyRules(rounding=draw(st.sampled_from(list(CommonPropertyRounding)))),
    )
    building = BuildingInput(
        "B-1", tz, total_area, draw(decimals(2, 900)), tuple(accs), tariffs, tuple(common), own
    )
    return building, period, rules


def _outcome(building: BuildingInput, period: BillingPeriod, rules: BillingRules, fast: bool):
    try:
        return compute_building_charges(building, period, rules, fast=fast)
    except Exception as exc:  # the reference's error is part of its behaviour
        return (type(exc), str(exc))


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(buildings())
def test_fast_path_gives_the_reference_result(case) -> None:
    building, period, rules = case
    reference = _outcome(building, period, rules, fast=False)
    fast = _outcome(building, period, rules, fast=True)
    assert fast == reference
    assert repr(fast) == repr(reference)


def test_the_comparison_sees_a_decimal_exponent() -> None:
    """``==`` alone would accept 4.50 for 4.5; the test compares ``repr`` too."""
    assert D("4.50") == D("4.5") and repr(D("4.50")) != repr(D("4.5"))


@pytest.mark.parametrize("flats", [1, 40])
def test_fast_path_on_the_benchmark_building(flats: int) -> None:
    """The close benchmark's building (hourly and register meters, normatives, three common-property
    services) — the shapes the fast path exists for — with hand-checked figures of one account."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_engine import PERIOD, synthetic_building

    building = synthetic_building(3, flats)
    fast = compute_building_charges(building, PERIOD)
    reference = compute_building_charges(building, PERIOD, fast=False)
    assert fast == reference and repr(fast) == repr(reference)
    first = fast.accounts[0]
    # flat 1 of building 3: T1 = 150 + 1 + 0.25 = 151.25 kWh × 7.85 = 1187.3125 → 1187.31 ₽
    day = next(ln for ln in first.lines if ln.service is Service.ELECTRICITY and ln.zone is Zone.DAY)
    assert (day.volume, day.tariff, day.amount) == (D("151.25"), D("7.85"), D("1187.31"))
