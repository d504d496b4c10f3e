"""compute_penalty walks the calendar in segments; this checks it against a plain day-by-day oracle
(written here from ЖК РФ ст. 155 ч. 14: k = 1 the day after the due date, 1..30 → 0, 31..90 → 1/300,
91+ → 1/130; payments reduce the base from the next day; moratorium days accrue 0)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.penalties import (
    DebtPayment,
    Moratorium,
    PenaltyDebt,
    PenaltyRules,
    PenaltyScale,
    compute_penalty,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money

DAY = timedelta(days=1)


def daily_oracle(debt: PenaltyDebt, as_of: date, rate: Decimal, windows, rules: PenaltyRules) -> Decimal:
    with engine_context():
        shift = DAY if rules.include_payment_day else timedelta(0)
        total, k, day = Decimal(0), 0, debt.due_date + DAY
        while day <= as_of:
            base = debt.amount - sum((p.amount for p in debt.payments if p.day + shift <= day), Decimal(0))
            if base <= 0:
                break
            inside = any(w.first_day <= day <= w.last_day for w in windows)
            if not inside or rules.moratorium_advances_counter:
                k += 1
            if not inside:
                if rules.scale is PenaltyScale.CAPITAL_REPAIR:
                    divisor = 300
                else:
                    divisor = 0 if k <= 30 else 300 if k <= 90 else 130
                if divisor:
                    total += base * rate / 100 / divisor
            day += DAY
        return total


@settings(max_examples=300, deadline=None)
@given(
    amount=st.integers(1, 1_000_000),
    pays=st.lists(st.tuples(st.integers(-20, 400), st.integers(1, 400_000)), max_size=4),
    as_of_offset=st.integers(0, 500),
    window=st.one_of(st.none(), st.tuples(st.integers(-30, 300), st.integers(0, 200))),
    include_payment_day=st.booleans(),
    advances=st.booleans(),
    capital=st.booleans(),
)
def test_segments_equal_the_daily_oracle(
    amount, pays, as_of_offset, window, include_payment_day, advances, capital
) -> None:
    due = date(2025, 2, 10)
    principal = Decimal(amount).scaleb(-2)
    payments, left = [], principal
    for offset, kopecks in pays:
        part = min(Decimal(kopecks).scaleb(-2), left)
        if part > 0:
            payments.append(DebtPayment(due + timedelta(days=offset), part))
            left -= part
    debt = PenaltyDebt(BillingPeriod(2025, 1), principal, due, tuple(payments))
    windows = ()
    if window is not None:
        start = due + timedelta(days=window[0])
        windows = (Moratorium(start, start + timedelta(days=window[1])),)
    rules = PenaltyRules(
        include_payment_day=include_payment_day,
        moratorium_advances_counter=advances,
        scale=PenaltyScale.CAPITAL_REPAIR if capital else PenaltyScale.HOUSING,
    )
    as_of = due + timedelta(days=as_of_offset)
    rate = Decimal("9.5")
    result = compute_penalty(debt, as_of=as_of, rate_percent=rate, moratoria=windows, rules=rules)
    expected = daily_oracle(debt, as_of, rate, windows, rules)
    # equal up to the last of the engine's 100 digits (the oracle divides day by day)
    assert abs(result.amount_exact - expected) < Decimal("1e-80")
    assert result.amount == round_money(expected)
    assert all(line.days == (line.last_day - line.first_day).days + 1 for line in result.lines)
    # runs are contiguous and never merge two equal neighbours
    for a, b in zip(result.lines, result.lines[1:], strict=False):
        assert b.first_day == a.last_day + DAY
        assert (a.base, a.divisor) != (b.base, b.divisor)
