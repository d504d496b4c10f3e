"""The individual volume procedure (billing-rules.md §1.7): meter, average and its limit, normative, ×1.5."""

from decimal import Decimal

import pytest

from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import (
    IndividualVolume,
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    VolumeDecisionError,
    VolumeMethod,
    VolumeRules,
    average_zone_volumes,
    decide_individual_volume,
    wastewater_volume,
)
from meterhub.billing.rules.zones import Zone

D = Decimal
N_COLD = D("4.86")  # m³/person/month (I-1)
HISTORY_I3 = [
    {Zone.DAY: D(v), Zone.NIGHT: D(n)}
    for v, n in zip((210, 190, 205, 195, 200, 200), (100, 95, 105, 98, 102, 100), strict=True)
]


def _decide(
    consumer: ServiceConsumer, *, residential: bool = True, residents: int = 3, owners: int = 1, **kw
):
    return decide_individual_volume(
        consumer, account="LS-1", residential=residential, residents=residents, owners=owners, **kw
    )


def test_metered_volume_formula_1() -> None:
    meter = MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: D("12.345")})
    volume = _decide(ServiceConsumer(Service.COLD_WATER, meter, N_COLD))
    assert volume.method is VolumeMethod.METER
    assert volume.total == D("12.345")
    assert volume.formula == "ПП 354, Прил. 2, ф. 1"
    zoned = MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.DAY: D(200), Zone.NIGHT: D(100)})
    assert "п. 38" in _decide(ServiceConsumer(Service.ELECTRICITY, zoned)).formula


def test_metered_negative_volume_is_an_error() -> None:
    meter = MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: D(-1)})
    with pytest.raises(VolumeDecisionError, match="rollover"):
        _decide(ServiceConsumer(Service.COLD_WATER, meter))
    with pytest.raises(VolumeDecisionError, match="neither zone_volumes nor"):
        _decide(ServiceConsumer(Service.COLD_WATER, MeterPeriod(MeterStatus.VALID)))


def test_i3_average_per_zone() -> None:
    """I-3: day (210+190+205+195+200+200)/6 = 1200/6 = 200; night (100+95+105+98+102+100)/6 = 600/6 = 100."""
    meter = MeterPeriod(MeterStatus.NO_READINGS, history=HISTORY_I3)
    volume = _decide(ServiceConsumer(Service.ELECTRICITY, meter))
    assert volume.method is VolumeMethod.AVERAGE
    assert volume.zone_volumes == {Zone.DAY: D(200), Zone.NIGHT: D(100)}
    assert volume.formula == "ПП 354, п. 59 «б»"
    assert volume.average_months == 6


def test_average_window_is_the_last_six_months_and_needs_three() -> None:
    history = [{Zone.SINGLE: D(v)} for v in (1000, 6, 6, 6, 12, 12, 12)]  # the 1000 is 7 months back
    assert average_zone_volumes(history) == {Zone.SINGLE: D(9)}  # (6+6+6+12+12+12)/6 = 54/6
    assert average_zone_volumes(history[-3:]) == {Zone.SINGLE: D(12)}  # 3 months: (12+12+12)/3
    assert average_zone_volumes(history[-2:]) is None  # < 3 months → no average
    mixed = [{Zone.SINGLE: D(3)}, {Zone.DAY: D(2), Zone.NIGHT: D(2)}, {Zone.SINGLE: D(5)}]
    assert average_zone_volumes(mixed) == {Zone.SINGLE: D(4)}  # totals (3 + 4 + 5)/3
    # a repeating average stays exact to 100 digits: (1+1+2)/3
    repeating = average_zone_volumes([{Zone.SINGLE: D(1)}, {Zone.SINGLE: D(1)}, {Zone.SINGLE: D(2)}])
    assert repeating is not None
    assert abs(repeating[Zone.SINGLE] * 3 - 4) < D("1e-98")


def test_short_history_falls_back_to_normative() -> None:
    meter = MeterPeriod(MeterStatus.NO_READINGS, history=HISTORY_I3[:2])
    volume = _decide(ServiceConsumer(Service.COLD_WATER, meter, N_COLD))
    assert volume.method is VolumeMethod.NORMATIVE
    assert volume.total == D("14.58")  # 3 × 4.86
    assert "2 metered month(s) < 3" in volume.note


@pytest.mark.parametrize(
    ("consecutive", "method"), [(0, "average"), (1, "average"), (2, "average"), (3, "normative")]
)
def test_average_limit_residential_three_periods(consecutive: int, method: str) -> None:
    """I-3: periods 1–3 without readings → average; period 4+ → normative (formula 4, no ×1.5 for «б»)."""
    meter = MeterPeriod(MeterStatus.NO_READINGS, history=HISTORY_I3, consecutive_average_periods=consecutive)
    volume = _decide(ServiceConsumer(Service.COLD_WATER, meter, N_COLD))
    assert volume.method == method
    if method == "normative":
        assert volume.formula == "ПП 354, Прил. 2, ф. 4"
        assert volume.coefficient == 1
        assert volume.total == D("14.58")  # 3 × 4.86
        assert "limit 3" in volume.note


def test_average_limit_non_residential_two_periods() -> None:
    history = [{Zone.SINGLE: D(30)}] * 6
    ok = MeterPeriod(MeterStatus.NO_READINGS, history=history, consecutive_average_periods=1)
    assert _decide(ServiceConsumer(Service.COLD_WATER, ok, N_COLD), residential=False).total == D(30)
    exhausted = MeterPeriod(MeterStatus.NO_READINGS, history=history, consecutive_average_periods=2)
    # third period: normative (§1.7 oracle); nobody resides in a shop → 1 owner × 4.86, never ×1.5
    shop = _decide(ServiceConsumer(Service.COLD_WATER, exhausted, N_COLD), residential=False, residents=0)
    assert (shop.method, shop.total, shop.coefficient) == (VolumeMethod.NORMATIVE, D("4.86"), 1)
    no_meter = _decide(ServiceConsumer(Service.COLD_WATER, None, N_COLD), residential=False, residents=0)
    assert no_meter.method is VolumeMethod.NORMATIVE  # formula 4(1) is for residential premises only
    strict = VolumeRules(non_residential_normative=False)
    with pytest.raises(VolumeDecisionError, match=r"п\. 43"):
        _decide(ServiceConsumer(Service.COLD_WATER, exhausted, N_COLD), residential=False, rules=strict)


def test_supplier_duty_case_has_no_limit_and_limits_are_configurable() -> None:
    history = [{Zone.SINGLE: D(150)}] * 6
    meter = MeterPeriod(MeterStatus.FAILED_SUPPLIER_DUTY, history=history, consecutive_average_periods=10)
    volume = _decide(ServiceConsumer(Service.ELECTRICITY, meter, D(80)))
    assert volume.method is VolumeMethod.AVERAGE and volume.formula == "ПП 354, п. 59 «г»"
    rules = VolumeRules(average_limit_residential={MeterStatus.NO_READINGS: 6})
    meter = MeterPeriod(MeterStatus.NO_READINGS, history=history, consecutive_average_periods=5)
    assert (
        _decide(ServiceConsumer(Service.ELECTRICITY, meter, D(80)), rules=rules).method
        is VolumeMethod.AVERAGE
    )


def test_i1_no_meter_formula_4_and_i2_coefficient() -> None:
    # I-1: installation not possible (act exists) → n × N = 3 × 4.86 = 14.58 m³, formula 4
    plain = _decide(ServiceConsumer(Service.COLD_WATER, None, N_COLD, meter_obligatory_and_possible=False))
    assert plain.method is VolumeMethod.NORMATIVE and plain.total == D("14.58") and plain.coefficient == 1
    # I-2: obligatory and possible → same volume, coefficient 1.5, formula 4(1)
    x15 = _decide(ServiceConsumer(Service.COLD_WATER, None, N_COLD))
    assert x15.method is VolumeMethod.NORMATIVE_X1_5
    assert x15.total == D("14.58") and x15.coefficient == D("1.5")
    assert x15.formula == "ПП 354, Прил. 2, ф. 4(1)"
    assert x15.persons == 3 and x15.normative == N_COLD


def test_coefficient_only_for_water_and_electricity_after_repeat_refusal() -> None:
    electricity = _decide(ServiceConsumer(Service.ELECTRICITY, None, D(80)))
    assert electricity.method is VolumeMethod.NORMATIVE  # supplier's duty since 01.07.2020
    refused = _decide(ServiceConsumer(Service.ELECTRICITY, None, D(80), repeat_access_refusal=True))
    assert refused.method is VolumeMethod.NORMATIVE_X1_5 and refused.formula.startswith("ПП 354, п. 60(3)")
    assert refused.total == D(240)  # 3 × 80 kWh


def test_failed_meter_after_the_limit() -> None:
    history = [{Zone.SINGLE: D(10)}] * 6
    failed = MeterPeriod(MeterStatus.FAILED, history=history, consecutive_average_periods=3)
    assert _decide(ServiceConsumer(Service.HOT_WATER, failed, D("3.5"))).method is VolumeMethod.NORMATIVE_X1_5
    replacing = MeterPeriod(
        MeterStatus.FAILED, history=history, consecutive_average_periods=3, being_replaced=True
    )
    assert _decide(ServiceConsumer(Service.HOT_WATER, replacing, D("3.5"))).method is VolumeMethod.NORMATIVE
    rules = VolumeRules(coefficient_after_failed_meter=False)
    assert (
        _decide(ServiceConsumer(Service.HOT_WATER, failed, D("3.5")), rules=rules).method
        is VolumeMethod.NORMATIVE
    )
    no_readings = MeterPeriod(MeterStatus.NO_READINGS, history=history, consecutive_average_periods=3)
    assert _decide(ServiceConsumer(Service.HOT_WATER, no_readings, D("3.5"))).method is VolumeMethod.NORMATIVE


def test_nobody_registered_counts_owners() -> None:
    volume = _decide(ServiceConsumer(Service.COLD_WATER, None, N_COLD), residents=0, owners=2)
    assert volume.persons == 2 and volume.total == D("9.72")  # 2 × 4.86
    assert "п. 56(2)" in volume.note
    rules = VolumeRules(owners_when_nobody_resides=False)
    assert (
        _decide(ServiceConsumer(Service.COLD_WATER, None, N_COLD), residents=0, owners=2, rules=rules).total
        == 0
    )


def test_missing_normative_is_an_error() -> None:
    with pytest.raises(VolumeDecisionError, match="no normative"):
        _decide(ServiceConsumer(Service.COLD_WATER, None, None))


def test_wastewater_is_cold_plus_hot_without_coefficient() -> None:
    cold = IndividualVolume(Service.COLD_WATER, VolumeMethod.METER, "f1", {Zone.SINGLE: D("5.2")})
    hot = _decide(
        ServiceConsumer(Service.HOT_WATER, None, D("3.5")), residents=2
    )  # 2 × 3.5 = 7, ×1.5 on charge
    assert hot.method is VolumeMethod.NORMATIVE_X1_5
    waste = wastewater_volume([cold, hot])
    assert waste.total == D("12.2")  # 5.2 + 7.0
    assert waste.coefficient == 1
    assert waste.method is VolumeMethod.NORMATIVE  # weakest of meter / normative
    assert wastewater_volume([cold]).method is VolumeMethod.METER
