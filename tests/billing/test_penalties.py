"""Penalties (пени, ЖК РФ ст. 155 ч. 14): hand-computed values with the arithmetic written out.

Day k = 1 is the day after the due date D. Per day: k ≤ 30 → 0, k 31..90 → B × r / 300, k ≥ 91 → B × r / 130.
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.penalties import (
    DebtPayment,
    PenaltyDebt,
    PenaltyRules,
    PenaltyScale,
    PenaltyTables,
    compute_penalty,
)
from meterhub.billing.rules.periods import BillingPeriod

TABLES = PenaltyTables.default()
DUE = date(2025, 1, 10)
RATE = Decimal("9.5")
DECEMBER_2024 = BillingPeriod(2024, 12)
EXCLUSIVE = PenaltyRules(include_payment_day=False)


def day_k(k: int, due: date = DUE) -> date:
    return due + timedelta(days=k)


def debt(amount: str, *payments: tuple[date, str], period: BillingPeriod = DECEMBER_2024) -> PenaltyDebt:
    return PenaltyDebt(period, Decimal(amount), DUE, tuple(DebtPayment(d, Decimal(a)) for d, a in payments))


# --- the worked example P-1 (billing-rules §4.5) -------------------------------------------------------


def test_worked_example_p1_payment_day_inclusive() -> None:
    # December 2024: 5 000.00 ₽ due 10.01.2025, paid 15.05.2025, rate 9.5 % (ПП 474 ред. ПП 329).
    p1 = PenaltyDebt(
        BillingPeriod(2024, 12),
        Decimal("5000.00"),
        TABLES.due_date(BillingPeriod(2024, 12)),
        (DebtPayment(date(2025, 5, 15), Decimal("5000.00")),),
    )
    result = compute_penalty(p1, as_of=date(2025, 6, 30), tables=TABLES)
    assert result.rate_day == date(2025, 5, 15) and result.rate_percent == Decimal("9.5")
    # 10.02–10.04.2025 = 60 days × 5000 × 0.095 / 300 = 95.00
    # 11.04–15.05.2025 = 35 days × 5000 × 0.095 / 130 = 127.884615…
    free, first, second = result.lines
    assert (free.first_day, free.last_day, free.days, free.divisor) == (
        date(2025, 1, 11),
        date(2025, 2, 9),
        30,
        0,
    )
    assert (first.first_day, first.last_day, first.days, first.first_k) == (
        date(2025, 2, 10),
        date(2025, 4, 10),
        60,
        31,
    )
    assert first.amount_exact == Decimal("95")
    assert (second.first_day, second.last_day, second.days, second.first_k) == (
        date(2025, 4, 11),
        date(2025, 5, 15),
        35,
        91,
    )
    assert Decimal("127.884615") < second.amount_exact < Decimal("127.884616")  # 16 625 000 / 130 000
    assert result.amount == Decimal("222.88")  # 222.884615…


def test_worked_example_p1_payment_day_exclusive() -> None:
    result = compute_penalty(
        debt("5000", (date(2025, 5, 15), "5000")), as_of=date(2025, 6, 30), tables=TABLES, rules=EXCLUSIVE
    )
    # 95.00 + 34 days × 5000 × 0.095 / 130 = 95.00 + 124.230769… = 219.230769…
    assert result.amount == Decimal("219.23")


def test_due_dates_from_the_table() -> None:
    assert TABLES.due_date(BillingPeriod(2024, 12)) == date(2025, 1, 10)
    assert TABLES.due_date(BillingPeriod(2026, 1)) == date(2026, 2, 10)  # last period with the 10th
    assert TABLES.due_date(BillingPeriod(2026, 2)) == date(2026, 3, 15)  # 177-ФЗ: the 15th
    with pytest.raises(LookupError, match="due_day"):
        TABLES.due_date(BillingPeriod(2015, 12))


# --- boundaries ----------------------------------------------------------------------------------------


def test_day_30_accrues_nothing_day_31_accrues_one_three_hundredth() -> None:
    d = debt("3000")
    assert compute_penalty(d, as_of=day_k(30), rate_percent=RATE).amount == Decimal("0.00")
    # k = 31: 3000 × 0.095 / 300 = 0.95
    assert compute_penalty(d, as_of=day_k(31), rate_percent=RATE).amount_exact == Decimal("0.95")


def test_day_90_is_the_last_one_three_hundredth_day_91_is_one_hundred_thirtieth() -> None:
    d = debt("3000")
    # k 31..90 = 60 days × 0.95 = 57.00
    assert compute_penalty(d, as_of=day_k(90), rate_percent=RATE).amount_exact == Decimal("57")
    # + k 91: 3000 × 0.095 / 130 = 2.192307… → 59.192307… → 59.19
    result = compute_penalty(d, as_of=day_k(91), rate_percent=RATE)
    assert result.lines[-1].divisor == 130 and result.lines[-1].first_k == 91
    assert result.amount == Decimal("59.19")


def test_payment_day_inclusive_or_exclusive() -> None:
    paid_on_31 = debt("3000", (day_k(31), "3000"))
    assert compute_penalty(paid_on_31, as_of=day_k(200), rate_percent=RATE).amount == Decimal("0.95")
    assert compute_penalty(paid_on_31, as_of=day_k(200), rate_percent=RATE, rules=EXCLUSIVE).amount == 0
    paid_on_30 = debt("3000", (day_k(30), "3000"))
    assert compute_penalty(paid_on_30, as_of=day_k(200), rate_percent=RATE).amount == 0


def test_partial_payment_reduces_the_base_from_the_next_day() -> None:
    # 6000 due 10.01.2025; 2000 paid on 20.02.2025 (k = 41); still open on 01.03.2025 (k = 50).
    d = debt("6000", (date(2025, 2, 20), "2000"))
    inclusive = compute_penalty(d, as_of=date(2025, 3, 1), rate_percent=RATE)
    # k 31..41: 11 × 6000 × 0.095 / 300 = 20.90; k 42..50: 9 × 4000 × 0.095 / 300 = 11.40
    assert [(line.days, line.base) for line in inclusive.lines[1:]] == [(11, 6000), (9, 4000)]
    assert inclusive.amount == Decimal("32.30")
    # exclusive: k 31..40: 10 × 19.00/10 = 19.00; k 41..50: 10 × 4000 × 0.095 / 300 = 12.666… → 31.67
    assert compute_penalty(d, as_of=date(2025, 3, 1), rate_percent=RATE, rules=EXCLUSIVE).amount == Decimal(
        "31.67"
    )
    # the rate day of an open debt is the calculation day
    assert inclusive.rate_day == date(2025, 3, 1)


def test_payment_before_the_due_date_reduces_the_base() -> None:
    d = debt("3000", (date(2025, 1, 5), "1000"))
    # 2000 × 0.095 / 300 = 0.6333… for k = 31
    assert compute_penalty(d, as_of=day_k(31), rate_percent=RATE).amount == Decimal("0.63")


# --- moratoria -----------------------------------------------------------------------------------------


def test_moratorium_2020_advances_the_counter() -> None:
    # January 2020: 1000 ₽ due 10.02.2020, open on 10.01.2021, rate 6 %.
    d = PenaltyDebt(BillingPeriod(2020, 1), Decimal(1000), date(2020, 2, 10))
    # k 31 = 12.03.2020 … 05.04.2020 (k 55): 25 days × 1000 × 0.06 / 300 = 5.00
    # 06.04–31.12.2020: 270 days accrue nothing, k reaches 325
    # 01.01–10.01.2021: k 326..335 → 10 × 1000 × 0.06 / 130 = 4.615384… → total 9.615… → 9.62
    result = compute_penalty(d, as_of=date(2021, 1, 10), tables=TABLES, rate_percent=Decimal(6))
    assert [(line.first_day, line.days, line.divisor) for line in result.lines] == [
        (date(2020, 2, 11), 30, 0),
        (date(2020, 3, 12), 25, 300),
        (date(2020, 4, 6), 270, 0),
        (date(2021, 1, 1), 10, 130),
    ]
    assert result.amount == Decimal("9.62")
    assert result.notes and "424" in result.notes[0]
    # counter frozen during the moratorium: 01.01–10.01.2021 are k 56..65 → 10 × 0.20 = 2.00 → 7.00
    frozen = PenaltyRules(moratorium_advances_counter=False)
    assert compute_penalty(
        d, as_of=date(2021, 1, 10), tables=TABLES, rate_percent=Decimal(6), rules=frozen
    ).amount == Decimal("7.00")


def test_moratorium_2022_only_for_debts_that_arose_before_april_2022() -> None:
    # February 2022: 1000 ₽ due 10.03.2022. k 1..21 = 11.03–31.03 (free); 01.04–01.10.2022 = 184 days
    # of moratorium (k 22..205); 02.10–10.10 = k 206..214 → 9 × 1000 × 0.095 / 130 = 6.576923… → 6.58
    february = PenaltyDebt(BillingPeriod(2022, 2), Decimal(1000), date(2022, 3, 10))
    assert compute_penalty(february, as_of=date(2022, 10, 10), tables=TABLES, rate_percent=RATE).amount == (
        Decimal("6.58")
    )
    # April 2022 (arose after 01.04.2022): due 10.05.2022, k 31 = 10.06.2022; 10.06–10.07 = 31 days
    # × 1000 × 0.095 / 300 = 9.81666… → 9.82
    april = PenaltyDebt(BillingPeriod(2022, 4), Decimal(1000), date(2022, 5, 10))
    assert compute_penalty(april, as_of=date(2022, 7, 10), tables=TABLES, rate_percent=RATE).amount == (
        Decimal("9.82")
    )


# --- rates ---------------------------------------------------------------------------------------------


def test_rate_regimes() -> None:
    assert TABLES.rate_percent(date(2021, 6, 1)) == Decimal("5.00")  # key rate on the payment day
    assert TABLES.rate_percent(date(2022, 3, 15)) == Decimal("9.5")  # ПП 474: fixed (key was 20 %)
    assert TABLES.rate_percent(date(2022, 10, 1)) == Decimal("7.50")  # min(key 7.5 %, 9.5 %)
    assert TABLES.rate_percent(date(2023, 12, 20)) == Decimal("9.5")  # min(key 16 %, 9.5 %)
    assert TABLES.rate_percent(date(2026, 3, 16)) == Decimal("9.5")  # ПП 329 regime
    with pytest.raises(LookupError, match="key_rate"):
        TABLES.rate_percent(date(2027, 2, 1))  # key-rate table not yet known for 2027


def test_single_rate_of_the_day_the_debt_was_cleared() -> None:
    # 1000 ₽ due 10.02.2021, paid 01.06.2021 (key rate 5.00 % since 26.04.2021)
    d = PenaltyDebt(
        BillingPeriod(2021, 1),
        Decimal(1000),
        date(2021, 2, 10),
        (DebtPayment(date(2021, 6, 1), Decimal(1000)),),
    )
    result = compute_penalty(d, as_of=date(2021, 12, 31), tables=TABLES)
    # k 31 = 13.03.2021, k 90 = 11.05.2021: 60 × 1000 × 0.05 / 300 = 10.00;
    # k 91..111 = 12.05–01.06.2021: 21 × 1000 × 0.05 / 130 = 8.076923… → 18.08
    assert (result.rate_day, result.rate_percent, result.amount) == (
        date(2021, 6, 1),
        Decimal("5.00"),
        Decimal("18.08"),
    )


def test_capital_repair_scale_accrues_from_day_one_without_the_130_step() -> None:
    rules = PenaltyRules(scale=PenaltyScale.CAPITAL_REPAIR)
    # 10 days × 1000 × 0.095 / 300 = 3.1666… → 3.17
    assert compute_penalty(debt("1000"), as_of=day_k(10), rate_percent=RATE, rules=rules).amount == Decimal(
        "3.17"
    )
    # 100 days, still 1/300: 100 × 1000 × 0.095 / 300 = 31.666… → 31.67
    result = compute_penalty(debt("1000"), as_of=day_k(100), rate_percent=RATE, rules=rules)
    assert result.amount == Decimal("31.67") and result.formula.endswith("14.1")


# --- validation ----------------------------------------------------------------------------------------


def test_float_and_overpayment_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        PenaltyDebt(BillingPeriod(2024, 12), 5000.0, DUE)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="exceed"):
        debt("100", (DUE, "60"), (DUE, "50"))
    with pytest.raises(ValueError, match="tables"):
        compute_penalty(debt("100"), as_of=day_k(40))


def test_malformed_tables_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rates.toml"
    path.write_text('version = "x"\n[[due_day]]\nfirst_period = "2016-01"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"rates\.toml"):
        PenaltyTables.from_toml(path)


# --- properties ----------------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=Decimal("1000000"), places=2)


@settings(max_examples=60, deadline=None)
@given(
    amount=amounts,
    extra=amounts,
    due_offset=st.integers(0, 4000),
    days=st.integers(0, 1200),
    more_days=st.integers(0, 200),
)
def test_penalty_is_monotone_non_negative_and_zero_within_30_days(
    amount: Decimal, extra: Decimal, due_offset: int, days: int, more_days: int
) -> None:
    due = date(2016, 2, 10) + timedelta(days=due_offset)
    period = BillingPeriod(2016, 1)

    def penalty(base: Decimal, n: int) -> Decimal:
        d = PenaltyDebt(period, base, due)
        return compute_penalty(
            d, as_of=due + timedelta(days=n), tables=TABLES, rate_percent=RATE
        ).amount_exact

    value = penalty(amount, days)
    assert value >= 0
    if days <= 30:
        assert value == 0
    assert penalty(amount, days + more_days) >= value
    assert penalty(amount + extra, days) >= value
