"""Debtors list and the charges export for payment agents (read back with the registry parser)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from meterhub.billing.money.agent_export import export_charges
from meterhub.billing.money.debtors import debtor_from_debts, debtors
from meterhub.billing.money.payment_registry import parse_payment_registry
from meterhub.billing.money.penalty_run import run_penalties
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

TABLES = PenaltyTables.default()


def test_months_in_debt_count_overdue_periods_only() -> None:
    owed = {
        ("2025-01", "principal"): {"cold_water": 1000, "maintenance": -50},  # negative counts as nothing
        ("2025-02", "principal"): {"cold_water": 0},
        ("2025-03", "principal"): {"cold_water": 2000},
        ("2025-04", "principal"): {"cold_water": 500},  # due 10.05.2025: not overdue on 10.05
        ("2025-01", "penalty"): {"cold_water": 123},
    }
    assert debtor_from_debts(owed, date(2025, 5, 10), TABLES) == (3000, 2, "2025-01", 123)
    assert debtor_from_debts(owed, date(2025, 5, 11), TABLES) == (3500, 3, "2025-01", 123)


@pytest.mark.db
def test_debtors_and_agent_export(db_url: str, conn) -> None:
    add_building(conn, "DB", {"X1": "1", "X2": "2", "X3": "3"})
    conn.execute("UPDATE accounts SET owner_name = 'Иванов И. И.' WHERE account_no = 'X1'")
    for period in ("2025-01", "2025-02", "2025-03"):
        add_period(conn, "DB", period, "closed")
        for account in ("X1", "X2", "X3"):
            add_charge(conn, "DB", period, account, "cold_water", "1000.00")
    add_period(conn, "DB", "2025-04", "draft")
    # X2 pays January and February (2000.00, oldest first); X3 pays everything plus 50.00 in advance.
    post_payment(
        conn, account_no="X2", amount_kopecks=200000, paid_on=date(2025, 3, 20), payment_id="a", source="t"
    )
    post_payment(
        conn, account_no="X3", amount_kopecks=305000, paid_on=date(2025, 3, 20), payment_id="b", source="t"
    )
    run_penalties(conn, "DB", BillingPeriod(2025, 4))
    conn.commit()

    # On 30.04.2025 January (due 10.02) and February (due 10.03) are overdue, March (due 10.04) too.
    result = debtors(conn, date(2025, 4, 30), building_id="DB")
    assert [(d.account_no, d.amount, d.months, d.oldest) for d in result] == [
        ("X1", 300000, 3, "2025-01"),
        ("X2", 100000, 1, "2025-03"),
    ]
    # X1's January penalty up to 30.04: k = 31..79 (13.03–30.04, 49 days) × 1000 × 0.095 / 300 = 15.5166…
    # → 15.52; February: k = 31 is 10.04 → 21 days × 0.31666… = 6.65. X2 paid January on 20.03 (k = 38):
    # 13.03–20.03 = 8 days × 0.31666… = 2.5333… → 2.53; its February (paid at k = 10) and March: 0.
    assert result[0].penalty == 1552 + 665 and result[1].penalty == 253
    assert result[0].owner_name == "Иванов И. И."
    assert [d.account_no for d in debtors(conn, date(2025, 4, 30), min_months=2)] == ["X1"]

    export = export_charges(conn, BillingPeriod(2025, 4), building_id="DB")
    registry = parse_payment_registry(export.data, "export.csv")
    assert registry.errors == () and registry.encoding == "cp1251"
    got = {(r.account, r.amount, r.paid_on, str(r.period), r.payment_id) for r in registry.rows}
    # X1: 3000.00 + penalties 22.17; X2: 1000.00 + 2.53; X3: −50.00 (advance) → left out.
    assert got == {
        ("X1", Decimal("3022.17"), date(2025, 5, 10), "2025-04", "X1-042025"),
        ("X2", Decimal("1002.53"), date(2025, 5, 10), "2025-04", "X2-042025"),
    }
    assert (export.rows, export.total_kopecks) == (2, 302217 + 100253)
    assert "Оплата ЖКУ за 04.2025 ЛС X1" in export.data.decode("cp1251")


@pytest.mark.db
def test_debtors_show_penalties_accrued_to_date_beside_the_billed_ones(db_url: str, conn) -> None:
    add_building(conn, "DT", {"Y1": "1"})
    add_period(conn, "DT", "2025-01", "closed")
    add_charge(conn, "DT", "2025-01", "Y1", "cold_water", "1000.00")
    add_period(conn, "DT", "2025-03", "draft")
    run_penalties(conn, "DT", BillingPeriod(2025, 3))
    # billed by the March close: January due 10.02, k = 31 is 13.03; 13.03–31.03 = 19 days ×
    # 1000 × 0.095 / 300 = 6.0166… → 6.02. Accrued to 20.04: 13.03–20.04 = 39 days → 12.35.
    (y1,) = debtors(conn, date(2025, 4, 20), building_id="DT", accrued_to_date=True)
    assert (y1.penalty, y1.penalty_to_date) == (602, 1235)
    assert debtors(conn, date(2025, 4, 20), building_id="DT")[0].penalty_to_date is None
    # 5.00 designated for penalties on 20.04 pays the penalty accrued to that day (Decision 9)
    post_payment(
        conn,
        account_no="Y1",
        amount_kopecks=500,
        paid_on=date(2025, 4, 20),
        payment_id="y",
        source="t",
        purpose="пени",
    )
    (y1,) = debtors(conn, date(2025, 4, 20), building_id="DT", accrued_to_date=True)
    assert (y1.amount, y1.penalty, y1.penalty_to_date) == (100000, 602 - 500, 1235 - 500)
    conn.rollback()
