"""Balances (сальдо): per account × service × period, reconciling to the kopeck over the whole city."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest

from meterhub.billing.money.ledger import ADVANCE_SERVICE, account_balances, account_totals, payment_history
from meterhub.billing.money.penalty_run import close_money
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

_CORRECTION = (
    "INSERT INTO recalculation_lines (building_id, period, corrects_period, account_no, service, kind, zone,"
    " part_start, volume_delta, amount_exact_delta, amount, reason)"
    " VALUES (%s, %s, %s, %s, 'cold_water', 'individual', 'single', %s, 0, %s, %s, 'test')"
)
PERIODS = [BillingPeriod(2025, m) for m in range(1, 13)]
SERVICES = ["cold_water", "hot_water", "electricity", "maintenance"]


@pytest.fixture(scope="module")
def city(db_url: str) -> str:
    """Three buildings, 24 accounts, twelve months of random charges, corrections, payments (some naming
    a period, some designating penalties, some overpaying) and the money step of each month's close."""
    from meterhub.timeseries.database import connect

    rng = random.Random(6)
    with connect(db_url) as conn:
        accounts: dict[str, list[str]] = {}
        for b in ("C1", "C2", "C3"):
            accounts[b] = [f"{b}-{i}" for i in range(8)]
            add_building(conn, b, {a: str(i) for i, a in enumerate(accounts[b])})
        n = 0
        for period in PERIODS:
            for b, accs in accounts.items():
                add_period(conn, b, str(period), "draft")
                for a in accs:
                    for s in rng.sample(SERVICES, 3):
                        add_charge(
                            conn, b, str(period), a, s, str(Decimal(rng.randint(1, 400000)).scaleb(-2))
                        )
                    if period.month > 2 and rng.random() < 0.3:  # a correction of the previous month
                        amount = Decimal(rng.randint(-5000, 5000)).scaleb(-2)
                        prev = period.previous()
                        conn.execute(
                            _CORRECTION, (b, str(period), str(prev), a, prev.first_day, amount, amount)
                        )
                    for _ in range(rng.randint(0, 2)):  # payments during the month
                        n += 1
                        day = date(period.year, period.month, rng.randint(1, 28))
                        named = rng.choice([None, period.previous(), period])
                        post_payment(
                            conn,
                            account_no=a,
                            amount_kopecks=rng.randint(1, 900000),
                            paid_on=day,
                            payment_id=f"pay-{n}",
                            source="bank",
                            period=named,
                            purpose=rng.choice(["", "", "пени"]),
                        )
                close_money(conn, b, period)
                conn.execute(
                    "UPDATE billing_periods SET status = 'closed', closed_at = now() WHERE building_id = %s"
                    " AND period = %s",
                    (b, str(period)),
                )
        conn.commit()
    return db_url


def _raw_totals(conn, through: BillingPeriod) -> int:
    """Σ of every movement in the raw tables up to ``through`` — independent of the ledger's query."""
    t = str(through)
    (charged,) = conn.execute(
        "SELECT coalesce(sum(amount * 100), 0) FROM charge_lines WHERE period <= %s", (t,)
    )
    (recalc,) = conn.execute(
        "SELECT coalesce(sum(amount * 100), 0) FROM recalculation_lines WHERE period <= %s", (t,)
    )
    (service,) = conn.execute(
        "SELECT coalesce(sum(amount_kopecks), 0) FROM service_recalculation_lines WHERE period <= %s", (t,)
    )
    (penalties,) = conn.execute(
        "SELECT coalesce(sum(amount_kopecks), 0) FROM penalty_lines WHERE closing_period <= %s", (t,)
    )
    # payments are counted in their booked period (here all months were open when they were posted)
    (paid,) = conn.execute(
        "SELECT coalesce(sum(amount_kopecks), 0) FROM payments WHERE to_char(paid_on, 'YYYY-MM') <= %s", (t,)
    )
    return int(charged[0] + recalc[0] + service[0] + penalties[0] - paid[0])


def test_city_balances_reconcile_to_the_kopeck(city: str, conn) -> None:
    previous_closing: dict[tuple[str, str], int] = {}
    for period in PERIODS:
        rows = [b for balances in account_balances(conn, period).values() for b in balances]
        assert len({b.account_no for b in rows}) == 24
        for b in rows:
            assert b.closing == b.opening + b.charged + b.recalculated + b.penalties - b.paid
            assert b.opening == previous_closing.get((b.account_no, b.service), 0)
            assert all(isinstance(v, int) for v in (b.opening, b.charged, b.paid, b.penalties, b.closing))
        previous_closing = {(b.account_no, b.service): b.closing for b in rows}
        # Σ closing over the city == every movement in the raw tables up to this period
        assert sum(b.closing for b in rows) == _raw_totals(conn, period)
    # the scenario exercised every column
    last = [b for bs in account_balances(conn, PERIODS[-1]).values() for b in bs]
    assert sum(b.penalties for b in last) > 0
    assert any(b.recalculated for b in last)
    assert any(b.service == ADVANCE_SERVICE for b in last)


def test_paid_equals_payments_and_allocations_are_whole(city: str, conn) -> None:
    for account in ("C1-0", "C2-3", "C3-7"):
        for payment in payment_history(conn, account):
            # each payment's allocation (principal + penalty + advance, net of applications) sums to it
            assert sum(a.amount for a in payment.allocations) == payment.amount
            assert all(a.amount > 0 for a in payment.allocations if a.kind != "advance")


def test_filters_and_totals(city: str, conn) -> None:
    june = BillingPeriod(2025, 6)
    by_building = account_balances(conn, june, building_id="C2")
    assert set(by_building) == {f"C2-{i}" for i in range(8)}
    one = account_balances(conn, "2025-06", account_nos=["C2-3", "missing"])
    assert one["missing"] == [] and one["C2-3"] == by_building["C2-3"]
    total = account_totals(one["C2-3"])
    assert total is not None and total.closing == sum(b.closing for b in one["C2-3"])
    assert account_totals([]) is None
