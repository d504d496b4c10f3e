"""Itemised charge lines of one account: the worked examples of billing-rules.md §1 and §3."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from meterhub.billing.rules.charges import (
    AccountInput,
    ChargeKind,
    CommonPropertyShare,
    compute_account_charges,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer
from meterhub.billing.rules.zones import (
    THREE_ZONE_SCHEDULE,
    TWO_ZONE_SCHEDULE,
    HourlySeries,
    Zone,
    zone_volumes_from_registers,
)

D = Decimal
JAN = BillingPeriod(2026, 1)
MOSCOW = "Europe/Moscow"
SINCE = date(2025, 7, 1)
COLD = Tariff(Service.COLD_WATER, SINCE, {Zone.SINGLE: D("52.17")})
HOT = Tariff(Service.HOT_WATER, SINCE, {Zone.SINGLE: D("210.45")})
WASTE = Tariff(Service.WASTEWATER, SINCE, {Zone.SINGLE: D("38.00")})
TWO_ZONE = Tariff(
    Service.ELECTRICITY,
    SINCE,
    {Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47"), Zone.SINGLE: D("6.43")},
    schedule=TWO_ZONE_SCHEDULE,
)
THREE_ZONE = Tariff(
    Service.ELECTRICITY,
    SINCE,
    {Zone.PEAK: D("8.95"), Zone.SEMI_PEAK: D("7.46"), Zone.NIGHT: D("3.47")},
    schedule=THREE_ZONE_SCHEDULE,
)


def _charge(*services: ServiceConsumer, tariffs=(COLD, HOT, WASTE, TWO_ZONE), tz: str = MOSCOW, **account):
    inp = AccountInput(
        "LS-15", account.pop("area", D("54.30")), services=services, **{"residents": 3, **account}
    )
    return compute_account_charges(inp, JAN, tariffs, tz)


def _amounts(charges) -> dict[tuple[str, str], Decimal]:
    return {(line.service.value, line.zone.value): line.amount for line in charges.lines}


def test_i1_normative_formula_4() -> None:
    charges = _charge(
        ServiceConsumer(Service.COLD_WATER, None, D("4.86"), meter_obligatory_and_possible=False)
    )
    (line,) = charges.lines
    assert line.volume == D("14.58")  # 3 × 4.86
    assert line.amount_exact == D("760.6386")  # 3 × 4.86 × 52.17
    assert line.amount == D("760.64")
    assert (line.method, line.formula, line.unit, line.kind) == (
        "normative", "ПП 354, Прил. 2, ф. 4", "m3", ChargeKind.INDIVIDUAL,
    )  # fmt: skip
    assert line.amount_without_coefficient is None and line.excess == 0


def test_i2_coefficient_with_excess_shown_separately() -> None:
    charges = _charge(ServiceConsumer(Service.COLD_WATER, None, D("4.86")))
    (line,) = charges.lines
    assert line.coefficient == D("1.5")
    assert line.amount_exact == D("1140.9579")  # 3 × 4.86 × 1.5 × 52.17
    assert line.amount == D("1140.96")
    assert line.amount_without_coefficient == D("760.64")  # round(760.6386)
    assert line.excess == D("380.32")  # 1140.96 − 760.64 = round(1140.9579 − 760.6386 = 380.3193)
    assert line.method == "normative_x1_5" and line.formula == "ПП 354, Прил. 2, ф. 4(1)"


def test_i3_average_two_zone() -> None:
    history = [
        {Zone.DAY: D(d), Zone.NIGHT: D(n)}
        for d, n in zip((210, 190, 205, 195, 200, 200), (100, 95, 105, 98, 102, 100), strict=True)
    ]
    charges = _charge(
        ServiceConsumer(Service.ELECTRICITY, MeterPeriod(MeterStatus.NO_READINGS, history=history))
    )
    # day 200 × 7.85 = 1570.00; night 100 × 3.47 = 347.00
    assert _amounts(charges) == {("electricity", "day"): D("1570.00"), ("electricity", "night"): D("347.00")}
    assert charges.total == D("1917.00")
    assert {line.method for line in charges.lines} == {"average"}


def test_e1_two_zone_registers() -> None:
    volumes = zone_volumes_from_registers(
        {"T1": D("12545.67") - D("12345.67"), "T2": D("5532.10") - D("5432.10")}
    )
    charges = _charge(
        ServiceConsumer(Service.ELECTRICITY, MeterPeriod(MeterStatus.VALID, zone_volumes=volumes))
    )
    assert _amounts(charges) == {("electricity", "day"): D("1570.00"), ("electricity", "night"): D("347.00")}
    assert charges.total == D("1917.00")  # 200 × 7.85 + 100 × 3.47


def test_e2_two_zone_fractional() -> None:
    meter = MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.DAY: D("187.34"), Zone.NIGHT: D("93.21")})
    charges = _charge(ServiceConsumer(Service.ELECTRICITY, meter))
    day, night = charges.lines
    assert day.amount_exact == D("1470.6190") and day.amount == D("1470.62")  # 187.34 × 7.85
    assert night.amount_exact == D("323.4387") and night.amount == D("323.44")  # 93.21 × 3.47
    assert charges.total == D("1794.06")  # sum of rounded lines = round(1794.0577)


def _hourly_jan(tz: str, kwh_per_hour: int = 1) -> HourlySeries:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    starts = [(h - epoch) // timedelta(microseconds=1) for h in JAN.utc_hour_starts(tz)]
    return HourlySeries.from_micro(starts, [kwh_per_hour * 1_000_000] * len(starts))


def test_e3_hourly_two_and_three_zone_yekaterinburg() -> None:
    tz = "Asia/Yekaterinburg"
    meter = MeterPeriod(MeterStatus.VALID, hourly=_hourly_jan(tz))
    two = _charge(ServiceConsumer(Service.ELECTRICITY, meter), tz=tz)
    # day 496 × 7.85 = 3893.60; night 248 × 3.47 = 860.56
    assert _amounts(two) == {("electricity", "day"): D("3893.60"), ("electricity", "night"): D("860.56")}
    assert two.total == D("4754.16")
    three = _charge(ServiceConsumer(Service.ELECTRICITY, meter), tariffs=(THREE_ZONE,), tz=tz)
    # peak 217 × 8.95 = 1942.15; semi-peak 279 × 7.46 = 2081.34; night 248 × 3.47 = 860.56
    assert _amounts(three) == {
        ("electricity", "peak"): D("1942.15"),
        ("electricity", "semi_peak"): D("2081.34"),
        ("electricity", "night"): D("860.56"),
    }
    assert three.total == D("4884.05")


def test_three_register_meter_on_two_zone_tariff_and_normative_on_zoned_tariff() -> None:
    volumes = zone_volumes_from_registers({"T1": D(70), "T2": D(80), "T3": D(90)})  # peak, night, semi-peak
    charges = _charge(
        ServiceConsumer(Service.ELECTRICITY, MeterPeriod(MeterStatus.VALID, zone_volumes=volumes))
    )
    # day = 70 + 90 = 160 × 7.85 = 1256.00; night 80 × 3.47 = 277.60
    assert _amounts(charges) == {("electricity", "day"): D("1256.00"), ("electricity", "night"): D("277.60")}
    normative = _charge(ServiceConsumer(Service.ELECTRICITY, None, D(80)), residents=2)
    # no meter: 2 × 80 = 160 kWh at the single-rate price 6.43 = 1028.80
    assert _amounts(normative) == {("electricity", "single"): D("1028.80")}
    with pytest.raises(ValueError, match="single-rate"):
        _charge(ServiceConsumer(Service.ELECTRICITY, None, D(80)), tariffs=(THREE_ZONE,))


def test_mid_month_tariff_change_with_hourly_data_is_exact() -> None:
    old = Tariff(Service.ELECTRICITY, SINCE, {Zone.SINGLE: D("6.00")}, valid_to=date(2026, 1, 16))
    new = Tariff(Service.ELECTRICITY, date(2026, 1, 16), {Zone.SINGLE: D("6.50")})
    series = _hourly_jan(MOSCOW)
    micro = series.volume_micro.copy()
    # the hour starting 2026-01-15 21:00 UTC is local 2026-01-16 00:00 MSK: 100 kWh in the new tariff's part
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    boundary = (datetime(2026, 1, 15, 21, tzinfo=UTC) - epoch) // timedelta(microseconds=1)
    micro[series.hour_starts_us == boundary] = 100_000_000
    meter = MeterPeriod(MeterStatus.VALID, hourly=HourlySeries.from_micro(series.hour_starts_us, micro))
    charges = _charge(ServiceConsumer(Service.ELECTRICITY, meter), tariffs=(old, new))
    first, second = charges.lines
    assert (first.volume, first.tariff, first.amount) == (
        D(360),
        D("6.00"),
        D("2160.00"),
    )  # 15 d × 24 h × 6.00
    assert (first.part_start, first.part_end) == (date(2026, 1, 1), date(2026, 1, 16))
    # 16 d × 24 h = 384 h, one of them 100 kWh: 383 + 100 = 483 kWh × 6.50 = 3139.50
    assert (second.volume, second.tariff, second.amount) == (D(483), D("6.50"), D("3139.50"))
    assert charges.total == D("5299.50")


def test_mid_month_tariff_change_without_hourly_data_prorates_by_days() -> None:
    old = Tariff(Service.ELECTRICITY, SINCE, {Zone.SINGLE: D("6.00")}, valid_to=date(2026, 1, 11))
    new = Tariff(Service.ELECTRICITY, date(2026, 1, 11), {Zone.SINGLE: D("6.50")})
    meter = MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: D(310)})
    charges = _charge(ServiceConsumer(Service.ELECTRICITY, meter), tariffs=(old, new))
    # 310 × 10/31 = 100 kWh × 6.00 = 600.00; 310 × 21/31 = 210 kWh × 6.50 = 1365.00
    assert [(line.volume, line.amount) for line in charges.lines] == [
        (D(100), D("600.00")),
        (D(210), D("1365.00")),
    ]


def test_housing_maintenance_per_m2() -> None:
    flat = Tariff(Service.MAINTENANCE, SINCE, {Zone.SINGLE: D("25.40")}, basis=PriceBasis.PER_M2)
    (line,) = _charge(ServiceConsumer(Service.MAINTENANCE), tariffs=(flat,)).lines
    assert (line.volume, line.unit, line.amount) == (D("54.30"), "m2", D("1379.22"))  # 54.30 × 25.40
    assert line.method == "area"
    old = Tariff(
        Service.MAINTENANCE, SINCE, {Zone.SINGLE: D("25.40")}, date(2026, 1, 16), basis=PriceBasis.PER_M2
    )
    new = Tariff(Service.MAINTENANCE, date(2026, 1, 16), {Zone.SINGLE: D("27.00")}, basis=PriceBasis.PER_M2)
    first, second = _charge(ServiceConsumer(Service.MAINTENANCE), tariffs=(old, new)).lines
    # 54.30 × 15/31 × 25.40 = 814.5 × 25.40 / 31 = 667.3645… → 667.36
    with engine_context():  # compare the 100-digit exact amounts at the engine's precision
        assert abs(first.amount_exact - D("20688.30") / 31) < D("1e-90")
        assert abs(second.amount_exact - D("23457.60") / 31) < D("1e-90")
    assert first.amount == D("667.36")
    # 54.30 × 16/31 × 27.00 = 868.8 × 27 / 31 = 756.6967… → 756.70
    assert second.amount == D("756.70")
    with pytest.raises(ValueError, match="per m²"):
        _charge(
            ServiceConsumer(Service.MAINTENANCE),
            tariffs=(COLD.__class__(Service.MAINTENANCE, SINCE, {Zone.SINGLE: D(1)}),),
        )


def test_wastewater_line_is_cold_plus_hot() -> None:
    cold = ServiceConsumer(
        Service.COLD_WATER, MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: D("5.2")})
    )
    hot = ServiceConsumer(
        Service.HOT_WATER, None, D("3.5")
    )  # 3 × 3.5 = 10.5 m³, ×1.5 on the hot-water charge
    charges = _charge(cold, hot, ServiceConsumer(Service.WASTEWATER))
    lines = {line.service: line for line in charges.lines}
    assert lines[Service.WASTEWATER].volume == D("15.7")  # 5.2 + 10.5
    assert lines[Service.WASTEWATER].coefficient == 1
    assert lines[Service.WASTEWATER].amount == D("596.60")  # 15.7 × 38.00
    assert lines[Service.HOT_WATER].amount == D("3314.59")  # 10.5 × 1.5 × 210.45 = 3314.5875
    assert lines[Service.HOT_WATER].excess == D(
        "1104.86"
    )  # 3314.59 − round(10.5 × 210.45 = 2209.725 → 2209.73)
    assert charges.total == D("271.28") + D("596.60") + D("3314.59")  # cold 5.2 × 52.17 = 271.284


def test_common_property_share_line() -> None:
    tariff = Tariff(Service.ELECTRICITY, SINCE, {Zone.SINGLE: D("6.43")})
    share = CommonPropertyShare(Service.ELECTRICITY, D("6.335"), "actual_capped", "ПП 354, Прил. 2, ф. 12")
    inp = AccountInput("LS-15", D("54.30"))
    (line,) = compute_account_charges(inp, JAN, [tariff], MOSCOW, common_property=[share]).lines
    assert line.kind is ChargeKind.COMMON_PROPERTY and line.amount == D(
        "40.73"
    )  # O-1: 6.335 × 6.43 = 40.73405
