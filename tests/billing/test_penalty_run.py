"""Penalties (пени) through the database path: charges → posted payments → run_penalties → penalty_lines.

Every expected amount is computed by hand in the test (ЖК РФ ст. 155 ч. 14, billing-rules §4):
day k = 1 is the day after the due date; k = 1..30 nothing, 31..90 B × r/300 per day, from 91 B × r/130;
the payment day accrues; the rate of 2025 is a fixed 9.5 % (ПП 474 ред. ПП 329).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from meterhub.billing.money.ledger import account_balances, payment_history
from meterhub.billing.money.penalty_run import run_penalties
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

R = Decimal("0.095")


def kop(amount: Decimal) -> int:
    return int((amount.quantize(Decimal("0.01"), ROUND_HALF_UP)) * 100)


@pytest.fixture(scope="module")
def pen(db_url: str) -> str:
    """Building PN. January 2025 debts (due 10.02.2025: k=1 11.02, k=30 12.03, k=31 13.03, k=90 11.05,
    k=91 12.05) of 3000.00 cold water for accounts D30, D31, D90, D91, PART; December 2024 5000.00 for
    P1 (billing-rules example P-1); February 2022 1300.00 for MOR (moratorium)."""
    from meterhub.timeseries.database import connect

    with connect(db_url) as conn:
        accounts = ["D30", "D31", "D90", "D91", "PART", "P1", "MOR", "OPEN"]
        add_building(conn, "PN", {a: str(i) for i, a in enumerate(accounts, 1)})
        for period in ("2022-02", "2024-12", "2025-01"):
            add_period(conn, "PN", period, "closed")
        for period in ("2022-10", "2025-03", "2025-04", "2025-05", "2025-06"):
            add_period(conn, "PN", period, "draft")
        for account in ("D30", "D31", "D90", "D91", "PART", "OPEN"):
            add_charge(conn, "PN", "2025-01", account, "cold_water", "3000.00")
        add_charge(conn, "PN", "2024-12", "P1", "cold_water", "5000.00")
        add_charge(conn, "PN", "2022-02", "MOR", "cold_water", "1300.00")
        payments = [
            ("D30", 300000, date(2025, 3, 12)),  # day 30
            ("D31", 300000, date(2025, 3, 13)),  # day 31
            ("D90", 300000, date(2025, 5, 11)),  # day 90
            ("D91", 300000, date(2025, 5, 12)),  # day 91
            ("PART", 100000, date(2025, 4, 1)),  # day 50, partial
            ("P1", 500000, date(2025, 5, 15)),
            ("MOR", 130000, date(2022, 10, 15)),
        ]
        for i, (account, kopecks, day) in enumerate(payments):
            post_payment(
                conn, account_no=account, amount_kopecks=kopecks, paid_on=day, payment_id=f"p{i}", source="t"
            )
        for period in ("2022-10", "2025-03", "2025-04", "2025-05", "2025-06"):
            run_penalties(conn, "PN", BillingPeriod.parse(period))
        conn.commit()
    return db_url


def _accrued(conn, account: str, closing: str) -> int | None:
    row = conn.execute(
        "SELECT accrued_kopecks FROM penalty_lines WHERE account_no = %s AND closing_period = %s",
        (account, closing),
    ).fetchone()
    return None if row is None else row[0]


def _booked(conn, account: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT closing_period, amount_kopecks FROM penalty_lines WHERE account_no = %s ORDER BY 1",
        (account,),
    )
    return dict(rows.fetchall())


def test_payment_on_day_30_accrues_nothing(pen: str, conn) -> None:
    assert _booked(conn, "D30") == {}


def test_payment_on_day_31_accrues_one_day_at_one_300th(pen: str, conn) -> None:
    # 3000 × 0.095 / 300 × 1 day = 0.95 ₽
    assert _accrued(conn, "D31", "2025-03") == kop(3000 * R / 300)
    assert _booked(conn, "D31") == {"2025-03": 95}


def test_payment_on_day_90_and_91(pen: str, conn) -> None:
    # day 90: 60 days (k = 31..90) × 0.95 = 57.00 ₽
    assert _accrued(conn, "D90", "2025-05") == kop(3000 * R / 300 * 60) == 5700
    # day 91: 57.00 + 3000 × 0.095 / 130 × 1 = 57 + 2.1923… = 59.19 ₽
    assert _accrued(conn, "D91", "2025-05") == kop(3000 * R / 300 * 60 + 3000 * R / 130) == 5919
    # Booked per closing period: March (k = 31..49: 19 days) 18.05; April (30 days) 28.50; May the rest.
    assert _booked(conn, "D91") == {"2025-03": 1805, "2025-04": 2850, "2025-05": 5919 - 1805 - 2850}


def test_partial_payment_reduces_the_base_from_the_next_day(pen: str, conn) -> None:
    # 1000 paid on 01.04.2025 (k = 50). Up to 30.04: k = 31..50 (13.03–01.04, 20 days) on 3000 = 19.00;
    # 02.04–30.04 (29 days) on 2000: 2000 × 0.095 / 300 × 29 = 18.3666… → 37.366… → 37.37 ₽.
    april = 3000 * R / 300 * 20 + 2000 * R / 300 * 29
    assert _accrued(conn, "PART", "2025-04") == kop(april) == 3737
    # Up to 31.05: + 01.05–11.05 (k = 80..90, 11 days) on 2000 at 1/300 + 12.05–31.05 (k = 91..110,
    # 20 days) at 1/130 = 19 + 25.3333… + 29.2307… = 73.5641… → 73.56 ₽; May books 73.56 − 37.37.
    may = 3000 * R / 300 * 20 + 2000 * R / 300 * 40 + 2000 * R / 130 * 20
    assert _accrued(conn, "PART", "2025-05") == kop(may) == 7356
    assert _booked(conn, "PART")["2025-05"] == 7356 - 3737


def test_billing_rules_example_p1(pen: str, conn) -> None:
    # December 2024, 5000.00, due 10.01.2025, paid 15.05.2025: 95.00 + 127.8846… = 222.88 ₽
    assert _accrued(conn, "P1", "2025-05") == kop(5000 * R / 300 * 60 + 5000 * R / 130 * 35) == 22288
    # June: the debt was paid in May, the total stays and June adds nothing (no line stored).
    assert _booked(conn, "P1")["2025-05"] == 22288 - _booked(conn, "P1").get("2025-04", 0) - _booked(
        conn, "P1"
    ).get("2025-03", 0)
    assert "2025-06" not in _booked(conn, "P1")


def test_moratorium_days_accrue_nothing(pen: str, conn) -> None:
    # February 2022, 1300.00, due 10.03.2022, paid 15.10.2022. ПП 497 moratorium 01.04–01.10.2022 covers
    # k = 22..205; only 02.10–15.10 (k = 206..219, 14 days) accrue at 1/130. Rate on 15.10.2022:
    # min(key 7.5 %, 9.5 %) = 7.5 % → 1300 × 0.075 / 130 × 14 = 10.50 ₽.
    assert _accrued(conn, "MOR", "2022-10") == kop(1300 * Decimal("0.075") / 130 * 14) == 1050


def test_open_debt_and_rerun_of_a_draft_close_are_stable(pen: str, conn) -> None:
    # OPEN never paid: up to 30.06.2025, k = 31..90 (60 days) × 0.95 + k = 91..140 (12.05–30.06, 50 days)
    # × 3000 × 0.095 / 130 = 57.00 + 109.6153… = 166.62 ₽
    assert _accrued(conn, "OPEN", "2025-06") == kop(3000 * R / 300 * 60 + 3000 * R / 130 * 50) == 16662
    before = conn.execute(
        "SELECT * FROM penalty_lines WHERE closing_period = '2025-06' ORDER BY 3"
    ).fetchall()
    run_penalties(conn, "PN", BillingPeriod(2025, 6))
    conn.commit()
    after = conn.execute("SELECT * FROM penalty_lines WHERE closing_period = '2025-06' ORDER BY 3").fetchall()
    assert before == after
    # The ledger shows the penalty as its own column and it reconciles.
    b = account_balances(conn, "2025-06", account_nos=["OPEN"])["OPEN"][0]
    assert b.penalties == _booked(conn, "OPEN")["2025-06"]
    assert b.closing == 300000 + 16662


def test_payment_pays_penalties_only_after_all_principal(pen: str, conn) -> None:
    # OPEN owes 3000.00 principal + 166.62 penalty (booked up to June). 3200.00 paid 05.07.2025 without a
    # period: 3000.00 principal, 166.62 penalty, 33.38 advance.
    post_payment(
        conn,
        account_no="OPEN",
        amount_kopecks=320000,
        paid_on=date(2025, 7, 5),
        payment_id="open-1",
        source="t",
    )
    conn.commit()
    (payment,) = payment_history(conn, "OPEN")
    kinds = {(a.kind, a.debt_period): a.amount for a in payment.allocations}
    assert kinds == {("principal", "2025-01"): 300000, ("penalty", "2025-01"): 16662, ("advance", None): 3338}


def test_key_rate_rows_added_after_verification() -> None:
    from meterhub.billing.rules.penalties import PenaltyTables

    tables = PenaltyTables.default()
    assert tables.key_rate(date(2025, 12, 21)) == Decimal("16.50")
    assert tables.key_rate(date(2025, 12, 22)) == Decimal("16.00")  # decision of 19.12.2025
    assert tables.key_rate(date(2026, 2, 16)) == Decimal("15.50")  # decision of 13.02.2026
    assert tables.key_rate(date(2026, 7, 31)) == Decimal("14.00")
    with pytest.raises(LookupError, match="complete only through 2026-07-31"):
        tables.key_rate(date(2026, 8, 1))


def test_payment_designating_penalties_pays_them_before_older_principal(pen: str, conn) -> None:
    # NP owes December 2024 (1000.00) and January 2025 (3000.00); by 30.04.2025 January's penalty is
    # k = 31..79 (13.03–30.04, 49 days) × 3000 × 0.095 / 300 = 46.55 ₽ and December's (due 10.01, k = 31
    # from 10.02; 10.02–10.04 60 days at 1/300 + 11.04–30.04 20 days at 1/130) = 19.00 + 14.6153… = 33.62.
    add_building(conn, "PN2", {"NP": "1"})
    for period in ("2024-12", "2025-01"):
        add_period(conn, "PN2", period, "closed")
    add_period(conn, "PN2", "2025-04", "draft")
    add_charge(conn, "PN2", "2024-12", "NP", "cold_water", "1000.00")
    add_charge(conn, "PN2", "2025-01", "NP", "cold_water", "3000.00")
    run_penalties(conn, "PN2", BillingPeriod(2025, 4))
    lines = dict(
        conn.execute(
            "SELECT debt_period, accrued_kopecks FROM penalty_lines WHERE account_no = 'NP'"
        ).fetchall()
    )
    assert (
        lines
        == {
            "2025-01": kop(3000 * R / 300 * 49),
            "2024-12": kop(1000 * R / 300 * 60 + 1000 * R / 130 * 20),
        }
        == {"2025-01": 4655, "2024-12": 3362}
    )
    # 3100.00 "пени и оплата за 01.2025" paid 05.05.2025: January principal 3000.00, then January's penalty
    # accrued up to the payment date (Decision 9), not only the 46.55 billed at the April close:
    # k = 31..84 (13.03–05.05, 54 days, the payment day included) × 3000 × 0.095 / 300 = 54 × 0.95 = 51.30;
    # then the oldest principal (December) gets the remaining 3100 − 3000 − 51.30 = 48.70; December's
    # penalty stays unpaid.
    post_payment(
        conn,
        account_no="NP",
        amount_kopecks=310000,
        paid_on=date(2025, 5, 5),
        payment_id="np-1",
        source="t",
        period=BillingPeriod(2025, 1),
        purpose="пени и оплата за 01.2025",
    )
    conn.commit()
    (payment,) = payment_history(conn, "NP")
    assert [(a.debt_period, a.kind, a.amount, a.rule) for a in payment.allocations] == [
        ("2025-01", "principal", 300000, "named_period"),
        ("2025-01", "penalty", kop(3000 * R / 300 * 54), "named_penalty"),
        ("2024-12", "principal", 310000 - 300000 - 5130, "oldest_first"),
    ]
    assert kop(3000 * R / 300 * 54) == 5130
    # Until the May close bills it, the penalty paid ahead of billing is a credit on January's penalty:
    # billed 46.55 − paid 51.30 = −4.75 (nothing is owed on it).
    from meterhub.billing.money.ledger import outstanding_by_debt

    owed = outstanding_by_debt(conn, ["NP"])["NP"]
    assert owed[("2025-01", "penalty")] == {"cold_water": 4655 - 5130}
