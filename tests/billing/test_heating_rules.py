"""Heating rules (billing-rules.md §9): every worked example of §9.6 with the arithmetic written out.

Expected values are computed by hand from the reference (tariff T_T = 2 845.17 ₽/Гкал, flat S_i = 54.30 m²,
house S_об = 5 000.00 m²), never by the engine.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.billing.rules.heating import (
    CorrectionMonth,
    HeatHouse,
    HeatingMethod,
    HeatingPolicy,
    HeatPremise,
    HeatUnitError,
    PaymentMode,
    PremiseHeatKind,
    UnmeteredRule,
    allocate_heat,
    display_gcal,
    even_monthly_volume,
    gcal_delta,
    heating_charge,
    odpu_average,
    odpu_average_limit,
    to_gcal,
    yearly_correction,
)

T = D("2845.17")
FLAT = D("54.30")
S_OB = D("5000.00")
SEASON_ODPU = HeatingPolicy(PaymentMode.SEASON, has_odpu=True)
EVEN_ODPU = HeatingPolicy(PaymentMode.EVEN_YEAR, has_odpu=True)


def _house(v_house: D | None, normative: D = D("0.0198"), common: D = D("600")) -> HeatHouse:
    return HeatHouse(total_area=S_OB, common_area=common, normative=normative, house_gcal=v_house)


def _by_no(allocation):
    return {p.premise_no: p for p in allocation.premises}


def test_h1_house_meter_season_no_ipu():
    # V_i = 312.456 × 54.30 / 5000 = 3.39327216 Гкал; P = 3.39327216 × 2845.17 = 9654.4361514672 → 9654.44
    premises = [HeatPremise("1", FLAT), HeatPremise("rest", D("4945.70"))]
    result = allocate_heat(SEASON_ODPU, _house(D("312.456")), premises)
    assert result.method is HeatingMethod.ODPU_NO_IPU
    flat = _by_no(result)["1"]
    assert flat.volume == D("3.39327216")
    assert heating_charge(flat.volume, T) == D("9654.44")
    # the trap: rounding the volume to 3.393 first gives 3.393 × 2845.17 = 9653.66181 → 9653.66
    assert heating_charge(D("3.393"), T) == D("9653.66")
    assert display_gcal(flat.volume) == "3.3933"
    assert "312.456" in flat.basis and "54.30/5000.00" in flat.basis


def test_h2_even_payment_and_yearly_correction():
    # V_T = 1560.000 / 12 = 130 Гкал/month; V_i = 130 × 54.30 / 5000 = 1.4118;
    # P = 1.4118 × 2845.17 = 4016.811006
    v_t = even_monthly_volume(D("1560.000"))
    assert v_t == D("130")
    premises = [HeatPremise("1", FLAT), HeatPremise("r", D("4945.7"))]
    flat = _by_no(allocate_heat(EVEN_ODPU, _house(v_t), premises))
    assert flat["1"].volume == D("1.4118")
    assert heating_charge(flat["1"].volume, T) == D("4016.81")
    # billed 12 × 4016.81 = 48201.72; actual year 1482.700 Гкал (11 × 120 + 162.7):
    # V_i = 1482.7 × 54.30/5000 = 16.102122; × 2845.17 = 45813.27445074 → 45813.27;
    # 45813.27 − 48201.72 = −2388.45
    months = [CorrectionMonth(m, D("120"), T, D("4016.81")) for m in range(1, 12)]
    months.append(CorrectionMonth(12, D("162.7"), T, D("4016.81")))
    corr = yearly_correction(months, FLAT, S_OB)
    assert corr.billed == D("48201.72")
    assert corr.actual_exact == D("45813.27445074")
    assert corr.actual == D("45813.27")
    assert corr.amount == D("-2388.45")
    assert corr.actual_gcal == D("16.102122")


def test_h2_correction_uses_each_months_tariff():
    # two months at different tariffs: 100 × 54.30/5000 = 1.086 Гкал each;
    # 1.086 × 2845.17 = 3089.85462, 1.086 × 3000.00 = 3258.00 → Σ 6347.85462 → 6347.85;
    # billed 6000.00 → +347.85
    months = [
        CorrectionMonth(1, D("100"), T, D("3000.00")),
        CorrectionMonth(7, D("100"), D("3000.00"), D("3000.00")),
    ]
    assert yearly_correction(months, FLAT, S_OB).amount == D("347.85")


def test_h3_normative_season_and_even():
    premises = [HeatPremise("1", FLAT)]
    season = HeatingPolicy(PaymentMode.SEASON, has_odpu=False, season_months=8)
    # 54.30 × 0.0198 = 1.07514 Гкал; × 2845.17 = 3058.9560738 → 3058.96; × 8 months = 24471.68
    flat = _by_no(allocate_heat(season, _house(None), premises))["1"]
    assert flat.volume == D("1.07514")
    assert heating_charge(flat.volume, T) == D("3058.96")
    assert 8 * heating_charge(flat.volume, T) == D("24471.68")
    # even: K = 8/12; 1.07514 × 8/12 = 0.71676; × 2845.17 = 2039.3040492 → 2039.30; × 12 = 24471.60
    even = HeatingPolicy(PaymentMode.EVEN_YEAR, has_odpu=False, season_months=8)
    result = allocate_heat(even, _house(None), premises)
    assert result.method is HeatingMethod.NORM_NO_ODPU
    flat = _by_no(result)["1"]
    assert flat.volume == D("0.71676")
    assert heating_charge(flat.volume, T) == D("2039.30")
    assert 12 * heating_charge(flat.volume, T) == D("24471.60")  # 0.08 ₽ less than season: expected


def _h4_premises() -> list[HeatPremise]:
    # metered area 3000.00 m² with ИПУ total 150.000 Гкал; unmetered area 2000.00 m²
    return [
        HeatPremise("m", FLAT, PremiseHeatKind.IPU, own_gcal=D("2.731")),
        HeatPremise("m-rest", D("2945.70"), PremiseHeatKind.IPU, own_gcal=D("147.269")),
        HeatPremise("u", FLAT),
        HeatPremise("u-rest", D("1945.70")),
    ]


def test_h4_partial_ipu_avg_specific_of_metered():
    result = allocate_heat(SEASON_ODPU, _house(D("312.456")), _h4_premises())
    assert result.method is HeatingMethod.ODPU_PARTIAL_IPU
    # specific 150/3000 = 0.05; unmetered 2000 × 0.05 = 100; common 312.456 − 150 − 100 = 62.456
    assert result.common_total == D("62.456")
    by = _by_no(result)
    # share 62.456 × 54.30/5000 = 0.67827216; metered 2.731 + 0.67827216 = 3.40927216 → 9699.9588714672
    assert by["m"].common_gcal == D("0.67827216")
    assert by["m"].volume == D("3.40927216")
    assert heating_charge(by["m"].volume, T) == D("9699.96")
    # unmetered 54.30 × 0.05 + 0.67827216 = 3.39327216 → 9654.44 (= H-1)
    assert by["u"].volume == D("3.39327216")
    assert heating_charge(by["u"].volume, T) == D("9654.44")


def test_h4_partial_ipu_normative_rule():
    policy = HeatingPolicy(PaymentMode.SEASON, has_odpu=True, unmetered_rule=UnmeteredRule.NORMATIVE)
    result = allocate_heat(policy, _house(D("312.456")), _h4_premises())
    # unmetered 2000 × 0.0198 = 39.600; common 312.456 − 150 − 39.6 = 122.856; share × 54.30/5000 = 1.33421616
    assert result.common_total == D("122.856")
    by = _by_no(result)
    assert by["m"].volume == D("4.06521616")  # 2.731 + 1.33421616 → × 2845.17 = 11566.2310619472
    assert heating_charge(by["m"].volume, T) == D("11566.23")
    assert by["u"].volume == D("2.40935616")  # 1.07514 + 1.33421616 → 6855.0278657472
    assert heating_charge(by["u"].volume, T) == D("6855.03")


def test_h5_units_mwh_register():
    # 15.0123 − 12.3456 = 2.6667 MWh; / 1.163 = 2.29294926913…; × 2845.17 = 6523.83047205… → 6523.83
    volume = gcal_delta("12.3456", "15.0123", "MWh")
    assert str(volume).startswith("2.292949269131556")
    assert heating_charge(volume, T) == D("6523.83")


@pytest.mark.parametrize(
    ("value", "unit", "prefix"),
    [
        ("12.345", "MWh", "10.61478933791917"),  # 12.345 / 1.163
        ("45.678", "GJ", "10.91000286615075"),  # 45.678 / 4.1868
        ("3456", "kWh", "2.971625107480653"),  # 3456 / 1163
        ("1500", "Mcal", "1.5"),  # 1500 / 1000
        ("4186800000", "J", "1"),  # 4.1868e9 J = 1 Гкал
        ("2.5", "Гкал", "2.5"),
    ],
)
def test_reference_unit_examples(value, unit, prefix):
    assert str(to_gcal(value, unit)).startswith(prefix)


def test_unknown_unit_is_a_clear_error():
    with pytest.raises(HeatUnitError, match="m3"):
        to_gcal("1", "m3")


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9))
def test_delta_of_kwh_equals_mwh_delta(start_wh, delta_wh):
    # the same register in kWh and in MWh gives the same Гкал (exact factors, one division)
    start, end = D(start_wh) / 1000, D(start_wh + delta_wh) / 1000
    assert gcal_delta(start, end, "kWh") == gcal_delta(start / 1000, end / 1000, "MWh")
    assert gcal_delta(start, end, "kWh") * 1163 == end - start


def test_premise_without_heating_devices_pays_common_share_only():
    premises = [
        HeatPremise("off", FLAT, PremiseHeatKind.NO_DEVICES),
        HeatPremise("rest", D("4945.70")),
    ]
    result = allocate_heat(SEASON_ODPU, _house(D("312.456")), premises)
    by = _by_no(result)
    # rest (no ИПУ, rule avg-specific without metered area → normative): 4945.70 × 0.0198 = 97.92486
    # common 312.456 − 0 − 97.92486 = 214.53114; off: 214.53114 × 54.30/5000 = 2.329848180…
    assert by["off"].own_gcal == 0
    assert by["rest"].own_gcal == D("97.92486")
    assert by["off"].volume == D("214.53114") * D("54.30") / D("5000.00")
    assert result.warnings  # no ИПУ to average: said in the report
    # without a house meter: off pays N_T × S_ои × S_i/S_об = 0.0198 × 600 × 54.30/5000 = 0.1290168
    normative = HeatingPolicy(PaymentMode.SEASON, has_odpu=False)
    assert _by_no(allocate_heat(normative, _house(None), premises))["off"].volume == D("0.1290168")


def test_normative_house_with_ipu_adds_common_normative():
    policy = HeatingPolicy(PaymentMode.SEASON, has_odpu=False)
    premises = [HeatPremise("m", FLAT, PremiseHeatKind.IPU, own_gcal=D("1.2")), HeatPremise("u", FLAT)]
    result = allocate_heat(policy, _house(None), premises)
    assert result.method is HeatingMethod.NORM_NO_ODPU_IPU
    # 1.2 + 0.0198 × 600 × 54.30/5000 = 1.2 + 0.1290168 = 1.3290168
    assert _by_no(result)["m"].volume == D("1.3290168")
    assert _by_no(result)["u"].volume == D("1.07514")


def test_distributors_share_the_rest_by_units():
    premises = [
        HeatPremise("a", D("2500"), PremiseHeatKind.DISTRIBUTOR, distributor_units=D("300")),
        HeatPremise("b", D("2500"), PremiseHeatKind.DISTRIBUTOR, distributor_units=D("100")),
    ]
    result = allocate_heat(SEASON_ODPU, _house(D("312.456"), common=D("600")), premises)
    assert result.method is HeatingMethod.ODPU_ALL_IPU
    # common heat = min(312.456, 0.0198 × 600 = 11.88) = 11.88; to share 312.456 − 11.88 = 300.576
    # a: 300.576 × 3/4 = 225.432 + 11.88 × 2500/5000 = 5.94 → 231.372; b: 75.144 + 5.94 = 81.084
    by = _by_no(result)
    assert by["a"].volume == D("231.372")
    assert by["b"].volume == D("81.084")


def test_negative_common_heat_is_zero_with_a_warning():
    premises = [
        HeatPremise("a", D("2500"), PremiseHeatKind.IPU, own_gcal=D("200")),
        HeatPremise("b", D("2500"), PremiseHeatKind.IPU, own_gcal=D("150")),
    ]
    result = allocate_heat(SEASON_ODPU, _house(D("312.456")), premises)
    assert result.common_total == 0
    assert _by_no(result)["a"].volume == D("200")
    assert any("negative" in w for w in result.warnings)


def test_ipu_threshold_switches_ipu_off():
    policy = HeatingPolicy(PaymentMode.SEASON, has_odpu=True, ipu_share_threshold=D("0.5"))
    premises = [
        HeatPremise("m", D("1000"), PremiseHeatKind.IPU, own_gcal=D("99")),
        HeatPremise("u", D("4000")),
    ]
    # metered share 1000/5000 = 0.2 < 0.5 → formula 3: m = 312.456 × 1000/5000 = 62.4912
    result = allocate_heat(policy, _house(D("312.456")), premises)
    assert result.method is HeatingMethod.ODPU_NO_IPU
    assert _by_no(result)["m"].volume == D("62.4912")


def test_failed_house_meter_average_and_limit():
    # history 900 Гкал over 150 heating days = 6 per day; 31 days = 186;
    # degree-days (20 − (−10))/(20 − (−5)) = 30/25 → 186 × 1.2 = 223.2
    assert odpu_average(D("900"), 150, 31) == D("186")
    assert odpu_average(D("900"), 150, 31, t_out_history=D("-5"), t_out_actual=D("-10")) == D("223.2")
    assert odpu_average_limit(date(2025, 3, 1)) == 6
    assert odpu_average_limit(date(2025, 2, 1)) == 3


def test_policy_validation():
    with pytest.raises(ValueError, match="correction_month"):
        HeatingPolicy(PaymentMode.EVEN_YEAR, has_odpu=True, correction_month=4)
    with pytest.raises(ValueError, match="volume_decimals"):
        HeatingPolicy(PaymentMode.SEASON, has_odpu=True, volume_decimals=2)
