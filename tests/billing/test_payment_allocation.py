"""Payment allocation (billing-rules §7.2, Decision 5): hand-computed orders and kopeck-exact splits."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.billing.rules.payment_allocation import (
    AllocationRule,
    AllocationRules,
    DebtKind,
    IncomingPayment,
    PeriodDebt,
    allocate_payment,
    split_pro_rata,
)
from meterhub.billing.rules.periods import BillingPeriod

OCT, NOV, DEC, JAN = (
    BillingPeriod(2025, 10),
    BillingPeriod(2025, 11),
    BillingPeriod(2025, 12),
    BillingPeriod(2026, 1),
)
D = Decimal


def debts() -> list[PeriodDebt]:
    return [
        PeriodDebt(NOV, date(2025, 12, 10), (("cold_water", D("200.00")), ("electricity", D("400.00")))),
        PeriodDebt(OCT, date(2025, 11, 10), (("cold_water", D("300.00")), ("maintenance", D("700.00")))),
        PeriodDebt(DEC, date(2026, 1, 10), (("electricity", D("500.00")),)),
        PeriodDebt(OCT, date(2025, 11, 10), (("penalty", D("12.34")),), DebtKind.PENALTY),
    ]


def summary(allocation) -> list[tuple[str, str, str, Decimal, str]]:  # type: ignore[no-untyped-def]
    return [
        (str(line.period), line.service, line.kind.value, line.amount, line.rule.value)
        for line in allocation.lines
    ]


def test_named_period_first_then_oldest_first() -> None:
    # 1500 naming December: December 500 (named), then October 1000 (oldest), November untouched
    allocation = allocate_payment(IncomingPayment(D("1500.00"), DEC), debts())
    assert summary(allocation) == [
        ("2025-12", "electricity", "principal", D("500.00"), "named_period"),
        ("2025-10", "cold_water", "principal", D("300.00"), "oldest_first"),
        ("2025-10", "maintenance", "principal", D("700.00"), "oldest_first"),
    ]
    assert allocation.advance == 0


def test_without_a_period_oldest_first_and_partial_last() -> None:
    # 2000 = October 1000 + November 600 + December 400 of 500; lines in receipt order (November:
    # electricity 400 before cold water 200)
    allocation = allocate_payment(IncomingPayment(D("2000.00")), debts())
    assert [(str(line.period), line.amount) for line in allocation.lines] == [
        ("2025-10", D("300.00")), ("2025-10", D("700.00")),
        ("2025-11", D("400.00")), ("2025-11", D("200.00")),
        ("2025-12", D("400.00"))]  # fmt: skip
    assert {line.rule for line in allocation.lines} == {AllocationRule.OLDEST_FIRST}


def test_penalties_only_after_all_principal_then_advance() -> None:
    # principal 1000 + 600 + 500 = 2100; 2200 − 2100 = 100 → penalty 12.34, advance 87.66
    allocation = allocate_payment(IncomingPayment(D("2200.00")), debts())
    assert summary(allocation)[-1] == ("2025-10", "penalty", "penalty", D("12.34"), "penalty_after_principal")
    assert allocation.advance == D("87.66")
    # penalties left unpaid unless designated: the whole 100.00 is an advance
    kept = allocate_payment(
        IncomingPayment(D("2200.00")), debts(), AllocationRules(penalties_after_principal=False)
    )
    assert all(line.kind is DebtKind.PRINCIPAL for line in kept.lines) and kept.advance == D("100.00")


def test_named_period_without_debt_goes_oldest_first() -> None:
    allocation = allocate_payment(IncomingPayment(D("300.00"), JAN), debts())
    # October 300 pro rata: cold 300 × 300/1000 = 90, maintenance 300 × 700/1000 = 210
    assert summary(allocation) == [
        ("2025-10", "cold_water", "principal", D("90.00"), "oldest_first"),
        ("2025-10", "maintenance", "principal", D("210.00"), "oldest_first"),
    ]


def test_pro_rata_split_uses_largest_remainder() -> None:
    # 100.00 naming November (cold 200, electricity 400):
    # 10000 × 200/600 = 3333.33…, 10000 × 400/600 = 6666.66…
    # floors 3333 + 6666 = 9999; the last kopeck to the larger remainder (electricity, .66…)
    allocation = allocate_payment(IncomingPayment(D("100.00"), NOV), debts())
    assert [(line.service, line.amount) for line in allocation.lines] == [
        ("electricity", D("66.67")), ("cold_water", D("33.33"))]  # fmt: skip
    # three equal remainders: 10 kopecks over 1.00 each → 3.33… each → 3, 3, 3 + 1 to the first
    assert split_pro_rata(10, [100, 100, 100]) == [4, 3, 3]
    assert split_pro_rata(0, [5, 7]) == [0, 0] and split_pro_rata(12, [5, 7]) == [5, 7]
    with pytest.raises(ValueError, match="cannot split"):
        split_pro_rata(13, [5, 7])


def test_designated_penalties() -> None:
    # designated penalties naming a period without a penalty (January): nothing to the penalty, oldest first —
    # October: 1234 × 300/1000 = 370.2, 1234 × 700/1000 = 863.8; the last kopeck to maintenance (.8)
    named = allocate_payment(IncomingPayment(D("12.34"), JAN, penalties_designated=True), debts())
    assert [(line.service, line.amount) for line in named.lines] == [
        ("cold_water", D("3.70")),
        ("maintenance", D("8.64")),
    ]
    allocation = allocate_payment(IncomingPayment(D("50.00"), penalties_designated=True), debts())
    # penalty 12.34 first; 37.66 over October: 3766 × 300/1000 = 1129.8, 3766 × 700/1000 = 2636.2;
    # floors 1129 + 2636 = 3765, the last kopeck to cold water (remainder .8)
    assert summary(allocation) == [
        ("2025-10", "penalty", "penalty", D("12.34"), "named_penalty"),
        ("2025-10", "cold_water", "principal", D("11.30"), "oldest_first"),
        ("2025-10", "maintenance", "principal", D("26.36"), "oldest_first"),
    ]
    with_period = allocate_payment(IncomingPayment(D("1012.34"), OCT, penalties_designated=True), debts())
    assert [line.rule.value for line in with_period.lines] == [
        "named_period",
        "named_period",
        "named_penalty",
    ]


def test_time_barred_debt_is_paid_first_and_equal_due_dates_share() -> None:
    old = PeriodDebt(BillingPeriod(2019, 5), date(2019, 6, 10), (("cold_water", D("50.00")),))
    allocation = allocate_payment(IncomingPayment(D("50.00")), [*debts(), old])
    assert summary(allocation) == [("2019-05", "cold_water", "principal", D("50.00"), "oldest_first")]
    same_day = date(2025, 11, 10)
    a = PeriodDebt(OCT, same_day, (("cold_water", D("100.00")),))
    b = PeriodDebt(NOV, same_day, (("cold_water", D("300.00")),))
    # 200 over 100 and 300 due the same day: 50 and 150 (ГК ст. 319.1 п. 2)
    assert [line.amount for line in allocate_payment(IncomingPayment(D("200.00")), [a, b]).lines] == [
        D("50.00"), D("150.00")]  # fmt: skip


def test_validation() -> None:
    with pytest.raises(TypeError, match="float"):
        IncomingPayment(100.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kopecks"):
        IncomingPayment(D("1.005"))
    with pytest.raises(ValueError, match="positive"):
        IncomingPayment(D("0"))
    with pytest.raises(ValueError, match="negative"):
        PeriodDebt(OCT, date(2025, 11, 10), (("cold_water", D("-1.00")),))
    with pytest.raises(ValueError, match="twice"):
        PeriodDebt(OCT, date(2025, 11, 10), (("cold_water", D("1")), ("cold_water", D("2"))))
    with pytest.raises(ValueError, match="one debt per"):
        allocate_payment(IncomingPayment(D("1")), [debts()[1], debts()[1]])


# --- properties ----------------------------------------------------------------------------------------

kopeck_amounts = st.integers(0, 5_000_000).map(lambda k: Decimal(k).scaleb(-2))
SERVICES = ["cold_water", "hot_water", "electricity", "maintenance"]


@st.composite
def account_debts(draw: st.DrawFn) -> list[PeriodDebt]:
    months = draw(st.lists(st.integers(0, 40), unique=True, max_size=8))
    result = []
    for month in months:
        period = BillingPeriod(2023 + month // 12, month % 12 + 1)
        due = period.next().first_day.replace(day=10)
        services = draw(st.lists(st.sampled_from(SERVICES), unique=True, min_size=1, max_size=4))
        result.append(PeriodDebt(period, due, tuple((s, draw(kopeck_amounts)) for s in services)))
        if draw(st.booleans()):
            result.append(PeriodDebt(period, due, (("penalty", draw(kopeck_amounts)),), DebtKind.PENALTY))
    return result


@settings(max_examples=150, deadline=None)
@given(
    debts=account_debts(),
    amount=st.integers(1, 30_000_000).map(lambda k: Decimal(k).scaleb(-2)),
    named_month=st.none() | st.integers(0, 45),
    designated=st.booleans(),
    after_principal=st.booleans(),
)
def test_allocation_is_exact_and_never_overpays(
    debts: list[PeriodDebt], amount: Decimal, named_month: int | None, designated: bool, after_principal: bool
) -> None:
    named = None if named_month is None else BillingPeriod(2023 + named_month // 12, named_month % 12 + 1)
    payment = IncomingPayment(amount, named, designated)
    allocation = allocate_payment(payment, debts, AllocationRules(penalties_after_principal=after_principal))
    assert allocation.allocated + allocation.advance == amount
    assert allocation.advance >= 0
    owed = {(d.period, d.kind, s): a for d in debts for s, a in d.owed}
    paid: dict[tuple[BillingPeriod, DebtKind, str], Decimal] = {}
    for line in allocation.lines:
        assert line.amount > 0 and line.amount == line.amount.quantize(Decimal("0.01"))
        key = (line.period, line.kind, line.service)
        paid[key] = paid.get(key, Decimal(0)) + line.amount
    assert all(paid[key] <= owed[key] for key in paid)
    principal_left = sum(owed[k] - paid.get(k, 0) for k in owed if k[1] is DebtKind.PRINCIPAL)
    if allocation.advance > 0:
        assert principal_left == 0
        if after_principal:
            assert all(paid.get(k, 0) == owed[k] for k in owed)
    # undesignated penalties are touched only after all principal is paid
    if not designated and any(line.kind is DebtKind.PENALTY for line in allocation.lines):
        assert principal_left == 0
