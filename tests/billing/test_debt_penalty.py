"""The penalty of one debt over its services (Decision 2) and its per-service split (Decision 10).

Oracles: the penalty of the debt computed on its *total* base B(t) = Σ_s B_s(t) with every service's
payments merged (one ``compute_penalty`` over the whole period's charge — the rule's own reading of "one
debt"), and the largest-remainder properties checked directly on the integers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.debt_penalty import ServiceDebt, compute_debt_penalty, split_largest_remainder
from meterhub.billing.rules.payment_allocation import split_kopecks
from meterhub.billing.rules.penalties import DebtPayment, PenaltyDebt, PenaltyTables, compute_penalty
from meterhub.billing.rules.periods import BillingPeriod

TABLES = PenaltyTables.default()
SERVICES = ("electricity", "cold_water", "hot_water", "wastewater", "maintenance")


@st.composite
def debts(draw: st.DrawFn) -> tuple[list[ServiceDebt], date]:
    services = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=5, unique=True))
    parts = []
    for service in services:
        principal = draw(st.integers(min_value=1, max_value=500_000))
        paid, payments = 0, []
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            amount = draw(st.integers(min_value=1, max_value=principal))
            if paid + amount > principal:
                break
            paid += amount
            day = date(2025, 2, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=200)))
            payments.append(DebtPayment(day, D(amount).scaleb(-2)))
        parts.append(ServiceDebt(service, D(principal).scaleb(-2), tuple(payments)))
    as_of = date(2025, 3, 1) + timedelta(days=draw(st.integers(min_value=0, max_value=300)))
    return parts, as_of


@settings(max_examples=150, deadline=None)
@given(debts())
def test_debt_penalty_equals_the_penalty_of_the_whole_base_rounded_once(case) -> None:
    parts, as_of = case
    debt = compute_debt_penalty(BillingPeriod(2025, 1), date(2025, 2, 10), parts, as_of=as_of, tables=TABLES)
    whole = PenaltyDebt(
        BillingPeriod(2025, 1),
        sum((p.amount for p in parts), D(0)),
        date(2025, 2, 10),
        tuple(payment for p in parts for payment in p.payments),
    )
    oracle = compute_penalty(whole, as_of=as_of, tables=TABLES)
    assert debt.amount == oracle.amount  # rounded once per debt, not per service
    assert abs(debt.amount_exact - oracle.amount_exact) < D("1e-60")
    assert sum((s.amount for s in debt.services), D(0)) == debt.amount
    for s in debt.services:  # each part is its exact penalty rounded down or up (largest remainder)
        assert abs(s.amount - s.result.amount_exact) < D("0.02")


@given(
    st.integers(min_value=0, max_value=10**7),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
)
def test_integer_split_is_a_largest_remainder_apportionment(amount: int, weights: list[int]) -> None:
    parts = split_kopecks(amount, weights)
    total = sum(weights)
    assert sum(parts) == amount
    for part, w in zip(parts, weights, strict=True):
        assert amount * w // total <= part <= amount * w // total + 1
    # the Decimal split of the same amount over the same (scaled) weights is an apportionment too
    scaled = [D(w) / 7 for w in weights]
    decimal_parts = [int(p * 100) for p in split_largest_remainder(D(amount).scaleb(-2), scaled)]
    assert sum(decimal_parts) == amount
    for part, w in zip(decimal_parts, weights, strict=True):
        assert amount * w // total <= part <= amount * w // total + 1


def test_ties_go_to_the_earlier_position() -> None:
    # 2 kopecks over three equal weights: 0.666… each → floors 0, the two kopecks to positions 0 and 1
    assert split_kopecks(2, [1, 1, 1]) == [1, 1, 0]
    assert split_largest_remainder(D("0.02"), [D(1), D(1), D(1)]) == [D("0.01"), D("0.01"), D("0.00")]
