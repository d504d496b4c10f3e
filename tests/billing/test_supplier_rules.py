"""Pure rules of the suppliers' money: supplier in force, commissions and their split (docs/suppliers.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.billing.rules.suppliers import (
    AgentContract,
    CommissionBearer,
    ServiceSupplier,
    SupplierBalance,
    commission_kopecks,
    contract_in_force,
    split_commission,
    supplier_in_force,
)


def test_supplier_in_force_follows_validity_dates() -> None:
    rows = [
        ServiceSupplier("B1", "electricity", date(2025, 1, 1), "uk"),
        ServiceSupplier("B1", "electricity", date(2025, 7, 1), "energo"),
        ServiceSupplier("B2", "electricity", date(2025, 1, 1), "uk2"),
    ]
    assert supplier_in_force(rows, "B1", "electricity", date(2024, 12, 31)) is None
    assert supplier_in_force(rows, "B1", "electricity", date(2025, 6, 30)) == "uk"
    assert supplier_in_force(rows, "B1", "electricity", date(2025, 7, 1)) == "energo"
    assert supplier_in_force(rows, "B2", "electricity", date(2026, 1, 1)) == "uk2"
    assert supplier_in_force(rows, "B1", "cold_water", date(2026, 1, 1)) is None


def test_commission_percent_minimum_and_cap() -> None:
    # 1.2 % of 1 917.00 ₽ = 23.004 ₽ → 23.00 ₽ (2 300 kopecks)
    assert commission_kopecks(191_700, Decimal("1.2"), 0) == 2_300
    # 1.5 % of 1 234.50 ₽ = 18.5175 ₽ → 18.52 ₽ (half-up on 1 851.75 kopecks)
    assert commission_kopecks(123_450, Decimal("1.5"), 0) == 1_852
    # 1 % of 100.00 ₽ = 1.00 ₽ but the minimum is 5.00 ₽
    assert commission_kopecks(10_000, Decimal("1"), 500) == 500
    # never more than the payment itself
    assert commission_kopecks(300, Decimal("1"), 500) == 300
    with pytest.raises(ValueError):
        commission_kopecks(0, Decimal("1"))


def test_contract_in_force() -> None:
    contracts = [
        AgentContract("sber", date(2025, 1, 1), Decimal("1.2"), 0, CommissionBearer.SUPPLIER),
        AgentContract("sber", date(2025, 6, 1), Decimal("0.9"), 300, CommissionBearer.MANAGEMENT),
    ]
    assert contract_in_force(contracts, "sber", date(2024, 12, 31)) is None
    assert contract_in_force(contracts, "sber", date(2025, 5, 31)).percent == Decimal("1.2")
    assert contract_in_force(contracts, "sber", date(2025, 6, 1)).borne_by is CommissionBearer.MANAGEMENT
    assert contract_in_force(contracts, "post", date(2025, 6, 1)) is None
    with pytest.raises(ValueError):
        AgentContract("x", date(2025, 1, 1), Decimal("100"))


def test_split_commission_hand_computed() -> None:
    # 23.00 ₽ over parts 1 000.00 / 600.00 / 317.00 (Σ 1 917.00):
    # 2300·100000/191700 = 1199.79 → 1199; 2300·60000/191700 = 719.87 → 719; 2300·31700/191700 = 380.33 → 380
    # Σ floors 2298, 2 kopecks left → to the largest remainders (0.87 then 0.79): 720 and 1200
    assert split_commission(2_300, [("uk", 100_000), ("energo", 60_000), ("vodo", 31_700)]) == [
        ("uk", 1_200),
        ("energo", 720),
        ("vodo", 380),
    ]
    assert split_commission(0, [("uk", 5)]) == []
    assert split_commission(10, [("uk", 0), ("energo", 5)]) == [("energo", 10)]


@given(
    st.integers(min_value=1, max_value=10**9),
    st.decimals(min_value=0, max_value=Decimal("99.9999"), places=4),
    st.integers(min_value=0, max_value=10**6),
    st.lists(st.integers(min_value=0, max_value=10**8), min_size=1, max_size=6),
)
def test_commission_and_split_are_exact(
    amount: int, percent: Decimal, minimum: int, parts: list[int]
) -> None:
    fee = commission_kopecks(amount, percent, minimum)
    exact = Decimal(amount) * percent / 100
    assert 0 <= fee <= amount
    assert fee == min(amount, max(minimum, int(exact.to_integral_value(rounding="ROUND_HALF_UP"))))
    if sum(parts) == 0:
        return
    named = [(f"s{i}", p) for i, p in enumerate(parts)]
    split = split_commission(fee, named)
    assert sum(share for _, share in split) == fee
    for payee, share in split:
        part = dict(named)[payee]
        # each share is within one kopeck of the exact pro-rata share
        assert abs(Decimal(share) - Decimal(fee) * part / sum(parts)) < 1


def test_balance_identity() -> None:
    b = SupplierBalance(
        "energo",
        "2025-03",
        charged=500_00,
        paid=400_00,
        withheld=4_80,
        transferred=300_00,
        owed_opening=10_00,
    )
    assert b.due == 395_20
    assert b.owed == 10_00 + 400_00 - 4_80 - 300_00
