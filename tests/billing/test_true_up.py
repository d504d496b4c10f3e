"""п. 61 true-up of averaged volumes against the reading received later (pure arithmetic)."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.true_up import (
    AveragedCharge,
    TrueUpError,
    actual_run_consumption,
    spread_true_up,
    true_up_lines,
    true_up_volumes,
)
from meterhub.billing.rules.zones import Zone

D = Decimal
JAN, FEB, MAR, APR = (BillingPeriod(2026, m) for m in (1, 2, 3, 4))
AVG = {Zone.DAY: D(200), Zone.NIGHT: D(100)}  # I-3 average
PRICES = {Zone.DAY: D("7.85"), Zone.NIGHT: D("3.47")}


def test_register_meter_three_averaged_months_per_zone() -> None:
    # last valid registers day 1000, night 500; reading received in April: day 1750, night 760
    actual = actual_run_consumption(
        {Zone.DAY: D(1000), Zone.NIGHT: D(500)}, {Zone.DAY: D(1750), Zone.NIGHT: D(760)}
    )
    assert actual == {Zone.DAY: D(750), Zone.NIGHT: D(260)}
    # true-up: day 750 − 3 × 200 = +150 ; night 260 − 3 × 100 = −40
    assert true_up_volumes(actual, [AVG, AVG, AVG]) == {Zone.DAY: D(150), Zone.NIGHT: D(-40)}
    lines = true_up_lines(actual, [AveragedCharge(p, AVG, PRICES) for p in (JAN, FEB, MAR)], in_period=APR)
    day = [ln for ln in lines if ln.zone is Zone.DAY]
    night = [ln for ln in lines if ln.zone is Zone.NIGHT]
    # day: 150 / 3 = 50 per period; 50 × 7.85 = 392.50
    assert [(ln.corrects_period, ln.volume, ln.amount) for ln in day] == [
        (JAN, D(50), D("392.50")),
        (FEB, D(50), D("392.50")),
        (MAR, D(50), D("392.50")),
    ]
    # night: −40 / 3 = −13.333333, −13.333333, remainder −13.333334;
    # −13.333333 × 3.47 = −46.26666551 → −46.27 ; −13.333334 × 3.47 = −46.26666898 → −46.27
    assert [ln.volume for ln in night] == [D("-13.333333"), D("-13.333333"), D("-13.333334")]
    assert [ln.amount for ln in night] == [D("-46.27")] * 3
    assert all(ln.period == APR and "п. 61" in ln.reason for ln in lines)


def test_current_period_volume_computed_separately_is_subtracted() -> None:
    # hourly meter: register at end of April 1420.5, last valid 1000, April itself metered 110.5
    actual = actual_run_consumption(
        {Zone.SINGLE: D(1000)}, {Zone.SINGLE: D("1420.5")}, {Zone.SINGLE: D("110.5")}
    )
    assert actual == {Zone.SINGLE: D(310)}  # 1420.5 − 1000 − 110.5
    avg = {Zone.SINGLE: D(120)}
    # tariff rises in March: 5.00 → 5.50; true-up 310 − 2 × 120 = +70, spread 35 / 35
    lines = true_up_lines(
        actual,
        [
            AveragedCharge(FEB, avg, {Zone.SINGLE: D("5.00")}),
            AveragedCharge(MAR, avg, {Zone.SINGLE: D("5.50")}),
        ],
        in_period=APR,
    )
    # 35 × 5.00 = 175.00 ; 35 × 5.50 = 192.50
    assert [(ln.corrects_period, ln.volume, ln.amount) for ln in lines] == [
        (FEB, D(35), D("175.00")),
        (MAR, D(35), D("192.50")),
    ]


def test_exact_average_gives_no_lines() -> None:
    actual = {Zone.SINGLE: D(30)}
    assert (
        true_up_lines(
            actual,
            [AveragedCharge(JAN, {Zone.SINGLE: D(10)}, {Zone.SINGLE: D(1)})] * 1
            + [AveragedCharge(FEB, {Zone.SINGLE: D(20)}, {Zone.SINGLE: D(1)})],
            in_period=MAR,
        )
        == []
    )


def test_spread_is_proportional_to_averaged_volumes() -> None:
    # +9 over averages 10 and 20: 9 × 10/30 = 3, remainder 6
    assert spread_true_up(D(9), [D(10), D(20)]) == [D(3), D(6)]
    assert spread_true_up(D(1), [D(0), D(0), D(0)]) == [D("0.333333"), D("0.333333"), D("0.333334")]


def test_zone_mismatch_compares_totals() -> None:
    # averages were SINGLE (mixed history) while the meter has T1/T2 registers: compare totals
    actual = actual_run_consumption(
        {Zone.DAY: D(10), Zone.NIGHT: D(5)}, {Zone.DAY: D(110), Zone.NIGHT: D(45)}
    )
    # 100 + 40 = 140 − (60 + 60) = +20
    assert true_up_volumes(actual, [{Zone.SINGLE: D(60)}] * 2) == {Zone.SINGLE: D(20)}


def test_bad_inputs_raise_clear_errors() -> None:
    with pytest.raises(TrueUpError, match="negative"):
        actual_run_consumption({Zone.SINGLE: D(100)}, {Zone.SINGLE: D(90)})
    with pytest.raises(TrueUpError, match="registers differ"):
        actual_run_consumption({Zone.SINGLE: D(1)}, {Zone.DAY: D(2), Zone.NIGHT: D(2)})
    with pytest.raises(TrueUpError, match="later period"):
        true_up_lines(
            {Zone.SINGLE: D(1)},
            [AveragedCharge(MAR, {Zone.SINGLE: D(0)}, {Zone.SINGLE: D(1)})],
            in_period=MAR,
        )
    with pytest.raises(TypeError, match="float"):
        actual_run_consumption({Zone.SINGLE: 1.0}, {Zone.SINGLE: D(2)})  # type: ignore[dict-item]


volumes = st.decimals(min_value=0, max_value=10_000, places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    start=volumes,
    used=st.lists(volumes, min_size=1, max_size=4),
    averages=st.lists(volumes, min_size=1, max_size=3),
)
def test_true_up_plus_averages_equals_actual(
    start: Decimal, used: list[Decimal], averages: list[Decimal]
) -> None:
    end = start + sum(used, D(0))
    actual = actual_run_consumption({Zone.SINGLE: start}, {Zone.SINGLE: end})
    charges = [
        AveragedCharge(BillingPeriod(2025, i + 1), {Zone.SINGLE: a}, {Zone.SINGLE: D(1)})
        for i, a in enumerate(averages)
    ]
    lines = true_up_lines(actual, charges, in_period=BillingPeriod(2026, 1))
    # Σ true-up volumes + Σ averages == actual consumption (= end − start), exactly
    assert sum((ln.volume for ln in lines), D(0)) + sum(averages, D(0)) == end - start
    assert all(abs(ln.amount - ln.amount_exact) <= D("0.005") for ln in lines)
