"""The close's money step end to end: the real close of the small building writes penalties, absence
recalculations and applies advances (billing/penalty_run.close_money called from close.close_building)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.money.ledger import account_balances, payment_history
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect
from tests.billing.close_data import load_small_building

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

JAN, APR = BillingPeriod(2026, 1), BillingPeriod(2026, 4)


@pytest.fixture(scope="module")
def closed(db_url: str) -> str:
    with connect(db_url) as conn:
        load_small_building(conn)
        # LS-3 (premise 3: act of technical impossibility) — 1 of its 2 residents away 05.01–18.01.2026.
        conn.execute(
            "INSERT INTO absence_periods (account_no, departed_on, returned_on)"
            " VALUES ('LS-3', '2026-01-05', '2026-01-18')"
        )
        # LS-2 paid 10 000.00 in advance on 20.12.2025 (before any charge).
        post_payment(
            conn,
            account_no="LS-2",
            amount_kopecks=1_000_000,
            paid_on=date(2025, 12, 20),
            payment_id="adv",
            source="t",
        )
        conn.commit()
        close_building(conn, "B1", JAN, CloseOptions(final=True))
        close_building(conn, "B1", APR)  # draft
    return db_url


def test_absence_recalculation_of_a_normative_service(closed: str) -> None:
    with connect(closed) as conn:
        rows = conn.execute(
            "SELECT c.amount_exact, v.persons, r.amount_kopecks FROM service_recalculation_lines r"
            " JOIN charge_lines c USING (building_id, period, account_no, service)"
            " JOIN period_volumes v USING (building_id, period, account_no, service)"
            " WHERE r.account_no = 'LS-3' AND r.period = '2026-01' AND r.reason_kind = 'absence'"
            " AND r.service = 'cold_water'"
        ).fetchall()
    (exact, persons, amount) = rows[0]
    # ΔP = −P × 1 person × 12 full days (06..17.01) / (2 persons × 31 days)
    expected = -(exact * 12 / (persons * 31)).quantize(Decimal("0.01"), ROUND_HALF_UP) * 100
    assert persons == 2 and amount == int(expected) and amount < 0


def test_advance_paid_january_at_the_close(closed: str) -> None:
    with connect(closed) as conn:
        (payment,) = payment_history(conn, "LS-2")
        jan = account_balances(conn, JAN, account_nos=["LS-2"])["LS-2"]
        charged = sum(b.charged + b.recalculated for b in jan if b.service != "advance")
        applied = sum(
            a.amount for a in payment.allocations if a.kind == "principal" and a.debt_period == "2026-01"
        )
        # The whole January charge was paid out of the advance at the January close …
        assert applied == charged > 0
        assert sum(b.closing for b in jan) == -(1_000_000 - charged)
        # … and the April draft's charges at the April close; the rest stays an advance.
        apr = account_balances(conn, APR, account_nos=["LS-2"])["LS-2"]
        charged_apr = sum(b.charged + b.recalculated for b in apr if b.service != "advance")
        assert payment.advance == 1_000_000 - charged - charged_apr > 0
        assert sum(b.closing for b in apr) == -payment.advance


def test_penalties_of_january_debts_at_the_april_close(closed: str) -> None:
    # January 2026 is due 10.02.2026 (day 10 until the February 2026 period); k = 31 is 13.03.2026;
    # up to 30.04.2026: 19 + 30 = 49 days at 1/300, rate 9.5 % → per debt round(P × 0.095 × 49 / 300).
    with connect(closed) as conn:
        principal = conn.execute(
            "SELECT account_no, service, sum(amount) FROM ("
            " SELECT account_no, service, amount FROM charge_lines WHERE period = '2026-01'"
            " UNION ALL SELECT account_no, service, amount_kopecks / 100.0 FROM service_recalculation_lines"
            " WHERE period = '2026-01') x WHERE account_no <> 'LS-2' GROUP BY 1, 2"
        ).fetchall()
        lines = conn.execute(
            "SELECT account_no, service, accrued_kopecks, days_overdue FROM penalty_lines"
            " WHERE closing_period = '2026-04'"
        ).fetchall()
    # Decision 2: one debt = one account's January charge over its services; the daily amounts are summed
    # unrounded over the services and rounded once: round(Σ_s P_s × 0.095 × 49 / 300). Decision 10: the
    # per-service lines split that total by the largest remainder (kopecks), ties in receipt order.
    order = ["electricity", "cold_water", "hot_water", "wastewater"]
    by_account: dict[str, list[tuple[str, Decimal]]] = {}
    for a, s, p in principal:
        by_account.setdefault(a, []).append((s, p * Decimal("0.095") * 49 / 300))
    expected = {}
    for a, parts in by_account.items():
        parts.sort(key=lambda item: (order.index(item[0]) if item[0] in order else 4, item[0]))
        exact = sum(e for _, e in parts)
        total = int((exact * 100).quantize(Decimal(1), ROUND_HALF_UP))
        floors = [int((total * e / exact).to_integral_value(rounding="ROUND_FLOOR")) for _, e in parts]
        rests = [total * e / exact - f for (_, e), f in zip(parts, floors, strict=True)]
        for i in sorted(range(len(parts)), key=lambda i: (-rests[i], i))[: total - sum(floors)]:
            floors[i] += 1
        expected.update({(a, s): k for (s, _), k in zip(parts, floors, strict=True)})
        got = sum(k for acc, _, k, _ in lines if acc == a)
        assert got == total  # Σ of the service lines = the debt rounded once
    assert {(a, s): k for a, s, k, _ in lines} == {k: v for k, v in expected.items() if v}
    assert {d for *_, d in lines} == {79}  # 11.02 → 30.04 = 79 days after the due date
    # LS-2 paid January out of its advance before the due date: no penalty.
    assert all(a != "LS-2" for a, *_ in lines)


def test_rerunning_the_april_draft_is_idempotent(closed: str) -> None:
    with connect(closed) as conn:
        before = conn.execute("SELECT * FROM penalty_lines ORDER BY 2, 3, 4, 5").fetchall()
        allocations = conn.execute("SELECT count(*), sum(amount_kopecks) FROM payment_allocations").fetchone()
        close_building(conn, "B1", APR)
        assert conn.execute("SELECT * FROM penalty_lines ORDER BY 2, 3, 4, 5").fetchall() == before
        again = conn.execute("SELECT count(*), sum(amount_kopecks) FROM payment_allocations").fetchone()
        assert again == allocations
