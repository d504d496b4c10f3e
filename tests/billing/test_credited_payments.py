"""Payments credited to a debt's principal when some money was returned by a reversal of execution (a
negative entry, docs/claims.md): the return takes back the latest payments before it, which are then treated
as never made. Pure; the amounts by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from meterhub.billing.money.penalty_debts import credited_payments


def _credited(principal: int, paid: list[tuple[date, int]]) -> list[tuple[date, Decimal]]:
    return [(p.day, p.amount) for p in credited_payments(principal, paid)]


def test_a_return_takes_back_the_latest_payments_first() -> None:
    paid = [(date(2025, 6, 15), 50000), (date(2025, 6, 25), 50000), (date(2025, 8, 1), -90000)]
    # 900.00 back: all of the 25.06 payment (500.00) and 400.00 of the 15.06 one; 100.00 of 15.06 stays
    assert _credited(100000, paid) == [(date(2025, 6, 15), Decimal("100.00"))]
    # the whole of it back: nothing was paid
    assert _credited(100000, [(date(2025, 6, 15), 50000), (date(2025, 8, 1), -50000)]) == []


def test_without_a_return_the_payments_are_credited_as_before() -> None:
    paid = [(date(2025, 6, 15), 70000), (date(2025, 6, 25), 50000)]
    # capped at the principal 1 000.00: 700.00 and 300.00
    assert _credited(100000, paid) == [
        (date(2025, 6, 15), Decimal("700.00")),
        (date(2025, 6, 25), Decimal("300.00")),
    ]
