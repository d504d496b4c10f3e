"""A whole building for one period: individual volumes → Σ V_u → common property → all lines."""

from datetime import date
from decimal import Decimal

import pytest

from meterhub.billing.rules.building import BuildingInput, compute_building_charges
from meterhub.billing.rules.charges import AccountInput, BillingRules, ChargeKind
from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    CommonPropertyRounding,
    CommonPropertyRules,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.tariffs import Service, Tariff
from meterhub.billing.rules.volumes import MeterPeriod, MeterStatus, ServiceConsumer, VolumeMethod
from meterhub.billing.rules.zones import Zone

D = Decimal
JAN = BillingPeriod(2026, 1)
SINCE = date(2025, 7, 1)
ELECTRICITY = Tariff(Service.ELECTRICITY, SINCE, {Zone.SINGLE: D("6.43")})
HOT = Tariff(Service.HOT_WATER, SINCE, {Zone.SINGLE: D("210.45")})
COLD = Tariff(Service.COLD_WATER, SINCE, {Zone.SINGLE: D("0.10")})


def _metered(service: Service, volume: str) -> ServiceConsumer:
    return ServiceConsumer(service, MeterPeriod(MeterStatus.VALID, zone_volumes={Zone.SINGLE: D(volume)}))


def _o_building(house_volume: str, method: CommonPropertyMethod) -> BuildingInput:
    """O-1…O-3: S_об 3000, S_ои 400, N 1.2 kWh/m²; flat 54.30 m² uses 150 kWh, the rest 12 000 kWh."""
    return BuildingInput(
        building="B-1",
        time_zone="Europe/Moscow",
        total_area=D("3000.00"),
        common_area=D("400.00"),
        accounts=(
            AccountInput("LS-15", D("54.30"), residents=2, services=(_metered(Service.ELECTRICITY, "150"),)),
            AccountInput(
                "REST", D("2945.70"), residents=90, services=(_metered(Service.ELECTRICITY, "12000"),)
            ),
        ),
        tariffs=(ELECTRICITY,),
        common_property=(CommonPropertyInput(Service.ELECTRICITY, D("1.2"), method, D(house_volume)),),
    )


def _lines(result, account: str, kind: ChargeKind):
    return [line for line in result.lines if line.account == account and line.kind is kind]


@pytest.mark.parametrize(
    ("house", "method", "volume", "amount", "excess_cost"),
    [
        ("12500", CommonPropertyMethod.ACTUAL_CAPPED, "6.335", "40.73", "0.00"),  # O-1: 350 × 54.3/3000
        ("12800", CommonPropertyMethod.ACTUAL_CAPPED, "8.688", "55.86", "1093.10"),  # O-2: 480 …; 170 × 6.43
        ("12800", CommonPropertyMethod.ACTUAL, "11.765", "75.65", "0.00"),  # O-2b: 650 × 54.3/3000
        ("12000", CommonPropertyMethod.ACTUAL_CAPPED, "0", "0.00", "0.00"),  # O-3: negative → 0
        ("12000", CommonPropertyMethod.NORMATIVE, "8.688", "55.86", "0.00"),  # ф. 15: 1.2 × 400 × 54.3/3000
    ],
)
def test_o_examples_through_the_building(
    house: str, method: CommonPropertyMethod, volume: str, amount: str, excess_cost: str
) -> None:
    result = compute_building_charges(_o_building(house, method), JAN)
    (individual,) = _lines(result, "LS-15", ChargeKind.INDIVIDUAL)
    assert individual.amount == D("964.50")  # 150 × 6.43, unchanged by common property
    (common,) = _lines(result, "LS-15", ChargeKind.COMMON_PROPERTY)
    assert common.volume == D(volume) and common.amount == D(amount)
    (report,) = result.common_property
    assert report.house.individual_total == D(12150)  # 150 + 12 000
    assert report.excess_cost == D(excess_cost)
    assert result.accounts[0].total == individual.amount + common.amount


def test_negative_difference_is_reported() -> None:
    result = compute_building_charges(_o_building("12000", CommonPropertyMethod.ACTUAL_CAPPED), JAN)
    assert result.common_property[0].house.negative
    assert any("negative common-property difference -150" in w for w in result.warnings)


def _o5_building(rounding: CommonPropertyRounding = CommonPropertyRounding.PER_ACCOUNT) -> BuildingInput:
    """O-5: flats 45.50, 62.30, 78.10 and a shop 114.10 (S_об 300); ГВС house ОДН 2.350 m³; T 210.45."""
    accounts = (
        AccountInput("flat1", D("45.50"), residents=1, services=(_metered(Service.HOT_WATER, "3"),)),
        AccountInput("flat2", D("62.30"), residents=2, services=(_metered(Service.HOT_WATER, "4"),)),
        AccountInput("flat3", D("78.10"), residents=3, services=(_metered(Service.HOT_WATER, "5"),)),
        AccountInput("shop", D("114.10"), residential=False, services=(_metered(Service.HOT_WATER, "10"),)),
    )
    return BuildingInput(
        "B-5",
        "Asia/Omsk",
        D("300.00"),
        D("40.00"),
        accounts,
        (HOT,),
        # house 24.350 − Σ (3 + 4 + 5 + 10 = 22) = 2.350 m³, under the cap 0.1 × 40 = 4
        (CommonPropertyInput(Service.HOT_WATER, D("0.1"), CommonPropertyMethod.ACTUAL_CAPPED, D("24.350")),),
    )


@pytest.mark.parametrize("rounding", list(CommonPropertyRounding))
def test_o5_non_residential_unit_shares_by_area(rounding: CommonPropertyRounding) -> None:
    rules = BillingRules(common_property=CommonPropertyRules(rounding=rounding))
    result = compute_building_charges(_o5_building(), JAN, rules)
    common = {line.account: line.amount for line in result.lines if line.kind is ChargeKind.COMMON_PROPERTY}
    # 2.35 × S_i/300 × 210.45: 75.0078875, 102.7031075, 128.7498025, 188.0967025
    assert common == {"flat1": D("75.01"), "flat2": D("102.70"), "flat3": D("128.75"), "shop": D("188.10")}
    assert sum(common.values()) == D("494.56")
    assert result.common_property[0].house.distributed == D("2.350")


def test_largest_remainder_mode_matches_the_rounded_total() -> None:
    # three equal accounts share 1 m³ of cold water at 0.10 ₽: exact 0.0333… ₽ each
    accounts = tuple(AccountInput(a, D(1), services=(_metered(Service.COLD_WATER, "0"),)) for a in "abc")
    building = BuildingInput(
        "B-LR",
        "Europe/Moscow",
        D(3),
        D(1),
        accounts,
        (COLD,),
        (CommonPropertyInput(Service.COLD_WATER, D(10), CommonPropertyMethod.ACTUAL, D(1)),),
    )
    per_account = compute_building_charges(building, JAN)
    amounts = [line.amount for line in per_account.lines if line.kind is ChargeKind.COMMON_PROPERTY]
    assert amounts == [D("0.03")] * 3  # each rounded independently: Σ 0.09 (decision 1 default)
    rules = BillingRules(
        common_property=CommonPropertyRules(rounding=CommonPropertyRounding.LARGEST_REMAINDER)
    )
    lr = compute_building_charges(building, JAN, rules)
    amounts = [line.amount for line in lr.lines if line.kind is ChargeKind.COMMON_PROPERTY]
    assert amounts == [D("0.04"), D("0.03"), D("0.03")]  # Σ = round(0.10); the tie goes to the first account


def test_method_counts_and_normative_accounts_enter_the_sum() -> None:
    accounts = (
        AccountInput("m", D(50), residents=1, services=(_metered(Service.COLD_WATER, "7"),)),
        AccountInput(
            "n", D(50), residents=2, services=(ServiceConsumer(Service.COLD_WATER, None, D("4.86")),)
        ),
    )
    building = BuildingInput(
        "B-N",
        "Europe/Moscow",
        D(100),
        D(10),
        accounts,
        (COLD,),
        (CommonPropertyInput(Service.COLD_WATER, D("0.5"), CommonPropertyMethod.ACTUAL_CAPPED, D(20)),),
    )
    result = compute_building_charges(building, JAN)
    counts = result.method_counts()[Service.COLD_WATER]
    assert counts == {VolumeMethod.METER: 1, VolumeMethod.NORMATIVE_X1_5: 1}
    house = result.common_property[0].house
    assert house.individual_total == D("16.72")  # 7 + 2 × 4.86 (the volume, without the 1.5 coefficient)
    assert house.difference == D("3.28") and house.distributed == D("3.28")  # under the cap 0.5 × 10 = 5


def test_area_mismatch_is_warned_and_duplicates_refused() -> None:
    building = _o_building("12500", CommonPropertyMethod.ACTUAL)
    short = BuildingInput(
        building.building,
        building.time_zone,
        D("3100.00"),
        building.common_area,
        building.accounts,
        building.tariffs,
        building.common_property,
    )
    assert any("S_об 3100.00" in w for w in compute_building_charges(short, JAN).warnings)
    twice = BuildingInput(
        "B-2",
        "Europe/Moscow",
        D(10),
        D(1),
        (AccountInput("x", D(5)), AccountInput("x", D(5))),
        (ELECTRICITY,),
    )
    with pytest.raises(ValueError, match="listed twice"):
        compute_building_charges(twice, JAN)


def test_service_summary_for_the_close_report() -> None:
    result = compute_building_charges(_o_building("12800", CommonPropertyMethod.ACTUAL_CAPPED), JAN)
    (summary,) = result.service_summaries()
    assert summary.service is Service.ELECTRICITY
    assert summary.accounts_by_method == {"meter": 2}
    assert summary.house_volume == D(12800) and summary.individual_volume == D(12150)
    assert summary.common_property_method == "actual_capped"
    assert summary.common_property_volume == D(480) and summary.excess_volume == D(170)
    assert summary.excess_cost == D("1093.10")  # 170 × 6.43
    with engine_context():
        assert summary.common_property_coefficient == D(480) / D(650)  # 0.7384…, at the engine's precision
    # individual: 150 × 6.43 = 964.50; 12 000 × 6.43 = 77 160.00
    assert summary.individual_amount == D("78124.50")
    # common property: 8.688 × 6.43 = 55.86384 → 55.86; 471.312 × 6.43 = 3030.53616 → 3030.54
    assert summary.common_property_amount == D("3086.40")
    assert not summary.negative_difference
