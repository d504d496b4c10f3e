"""ОДН/КРСОИ (billing-rules.md §2): house volume by method, cap, negative difference, area allocation."""

from decimal import Decimal

import pytest

from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    CommonPropertyRules,
    allocate_common_property_volume,
    compute_house_common_property,
)
from meterhub.billing.rules.rounding import engine_context, round_money
from meterhub.billing.rules.tariffs import Service

D = Decimal
M = CommonPropertyMethod
# O-1…O-3 house: S_об = 3000, S_ои = 400, N = 1.2 kWh/m² → cap 1.2 × 400 = 480 kWh; flat 54.30 m²; T = 6.43
S_OB, S_OI, S_I, T = D("3000.00"), D("400.00"), D("54.30"), D("6.43")


def _house(method: M, house_volume: str | None, individual_total: str = "12150", **kw):
    inp = CommonPropertyInput(
        Service.ELECTRICITY, D("1.2"), method, None if house_volume is None else D(house_volume), **kw
    )
    return compute_house_common_property(inp, individual_total=D(individual_total), common_area=S_OI)


def _flat_share(distributed: Decimal) -> Decimal:
    return allocate_common_property_volume(distributed, {"flat": S_I, "rest": S_OB - S_I}, S_OB)["flat"]


def test_o1_positive_under_cap() -> None:
    house = _house(M.ACTUAL_CAPPED, "12500")  # 12 500 − 12 150 = 350 < 480
    assert (house.difference, house.distributed, house.excess) == (D(350), D(350), D(0))
    assert house.normative_volume == D(480)
    v_i = _flat_share(house.distributed)
    assert v_i == D("6.335")  # 350 × 54.30 / 3000
    assert v_i * T == D("40.73405") and round_money(v_i * T) == D("40.73")
    assert house.formula.startswith("ПП 354, Прил. 2, ф. 12; п. 44")
    assert house.coefficient == 1


def test_o2_over_cap_and_excess_borne_by_the_management_company() -> None:
    house = _house(M.ACTUAL_CAPPED, "12800")  # 650 > 480
    assert (house.difference, house.distributed, house.excess) == (D(650), D(480), D(170))
    v_i = _flat_share(house.distributed)
    assert v_i == D("8.688")  # 480 × 54.30 / 3000
    assert round_money(v_i * T) == D("55.86")  # 55.86384
    assert round_money(house.excess * T) == D("1093.10")  # 170 × 6.43
    with engine_context():  # 100 significant digits, like the engine
        assert house.coefficient == D(480) / D(650)


def test_o2b_actual_by_meeting_decision() -> None:
    house = _house(M.ACTUAL, "12800")
    assert house.distributed == D(650) and house.excess == 0
    v_i = _flat_share(house.distributed)
    assert v_i == D("11.765")  # 650 × 54.30 / 3000
    assert v_i * T == D("75.64895") and round_money(v_i * T) == D("75.65")


@pytest.mark.parametrize("method", [M.ACTUAL_CAPPED, M.ACTUAL])
def test_o3_negative_difference_gives_zero(method: M) -> None:
    house = _house(method, "12000")  # 12 000 − 12 150 = −150
    assert house.difference == D(-150) and house.negative
    assert house.distributed == 0 and house.excess == 0
    assert house.coefficient is None
    assert any("п. 46" in w for w in house.warnings)
    assert _flat_share(house.distributed) == 0


def test_o4_normative_formula_15_cold_water() -> None:
    inp = CommonPropertyInput(Service.COLD_WATER, D("0.0320"), M.NORMATIVE, house_volume=D(99999))
    house = compute_house_common_property(inp, individual_total=D(0), common_area=S_OI)
    assert house.distributed == D("12.8")  # 0.032 × 400, house meter ignored
    v_i = _flat_share(house.distributed)
    assert v_i == D("0.23168")  # 12.8 × 54.30 / 3000
    assert v_i * D("52.17") == D("12.0867456")
    assert round_money(v_i * D("52.17")) == D("12.09")
    # the trap: rounding the volume to 3 decimals first (0.232) would give 12.10
    assert round_money(D("0.232") * D("52.17")) == D("12.10")
    assert house.formula.startswith("ПП 354, Прил. 2, ф. 15")


def test_o5_allocation_with_a_non_residential_unit() -> None:
    areas = {"flat1": D("45.50"), "flat2": D("62.30"), "flat3": D("78.10"), "shop": D("114.10")}  # Σ 300.00
    shares = allocate_common_property_volume(D("2.350"), areas, D("300.00"))
    tariff = D("210.45")
    amounts = {acc: round_money(v * tariff) for acc, v in shares.items()}
    # 2.35 × 45.50/300 = 0.356416667 → × 210.45 = 75.0078875 ; shop 2.35 × 114.10/300 × 210.45 = 188.0967025
    assert amounts == {"flat1": D("75.01"), "flat2": D("102.70"), "flat3": D("128.75"), "shop": D("188.10")}
    assert sum(shares.values()) == D("2.350")
    assert sum(amounts.values()) == D("494.56") == round_money(D("2.350") * tariff)  # 494.5575


def test_cold_water_formula_11_subtracts_hot_water_preparation() -> None:
    inp = CommonPropertyInput(
        Service.COLD_WATER, D("0.0320"), M.ACTUAL, house_volume=D(100), hot_water_preparation_volume=D(15)
    )
    house = compute_house_common_property(inp, individual_total=D(80), common_area=S_OI)
    assert house.difference == D(5)  # 100 − 80 − 15
    assert house.formula.startswith("ПП 354, Прил. 2, ф. 11")
    with pytest.raises(ValueError, match="cold water only"):
        compute_house_common_property(
            CommonPropertyInput(Service.HOT_WATER, D(0), M.ACTUAL, D(1), hot_water_preparation_volume=D(1)),
            individual_total=D(0),
            common_area=S_OI,
        )


def test_average_method_and_its_limit() -> None:
    history = [D(30), D(36), D(-5), D(24)]  # the negative month counts as 0
    house = _house(M.AVERAGE, "99999", history=history)
    assert house.method is M.AVERAGE
    assert house.distributed == D("22.5")  # (30 + 36 + 0 + 24) / 4
    assert house.formula == "ПП 354, п. 59(1)"
    capped = _house(M.AVERAGE, None, history=[D(600)] * 6)
    assert (capped.distributed, capped.excess) == (D(480), D(120))  # capped by 1.2 × 400 [I]
    uncapped = compute_house_common_property(
        CommonPropertyInput(Service.ELECTRICITY, D("1.2"), M.AVERAGE, history=[D(600)] * 6),
        individual_total=D(0),
        common_area=S_OI,
        rules=CommonPropertyRules(cap_average_by_normative=False),
    )
    assert uncapped.distributed == D(600)
    limit = _house(M.AVERAGE, None, history=history, consecutive_average_periods=3)
    assert limit.method is M.NORMATIVE and limit.distributed == D(480)
    short = _house(M.AVERAGE, None, history=history[:2])
    assert short.method is M.NORMATIVE


def test_actual_without_house_reading_uses_the_average() -> None:
    house = _house(M.ACTUAL_CAPPED, None, history=[D(300)] * 6)
    assert house.method is M.AVERAGE and house.method_requested is M.ACTUAL_CAPPED
    assert house.distributed == D(300)
    assert any("no valid house-meter volume" in w for w in house.warnings)


def test_allocation_is_exact_for_repeating_shares() -> None:
    shares = allocate_common_property_volume(D(1), {"a": D(1), "b": D(1), "c": D(1)}, D(3))
    with engine_context():  # shares carry 50 decimals: sum them with the engine's precision
        assert sum(shares.values()) == D(1)
    assert max(shares.values()) - min(shares.values()) == D("1e-50")
    partial = allocate_common_property_volume(D(300), {"a": D(50)}, D(300))  # accounts cover 1/6 of S_об
    assert partial == {"a": D(50)}
    with pytest.raises(ValueError, match="positive"):
        allocate_common_property_volume(D(1), {"a": D(1)}, D(0))
