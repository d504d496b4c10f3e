"""How penalties are stored (issue 14, part 3): one ``penalty_accruals`` row per account × service × closing
period, whatever the number of open debts; ``penalty_lines`` (a view) still shows one row per debt ×
service; a database with rows of the old per-debt table is converted by migration 0171 and the next close
continues from them.

Expected amounts by hand (ЖК РФ ст. 155 ч. 14, billing-rules §4): day k = 1 is the day after the due date
(the 10th of the next month in 2025); k = 1..30 nothing, 31..90 B × r/300 a day, from 91 B × r/130;
r = 9.5 % (fixed for 2025); one debt = one month's charge over its services, rounded once half-up
(Decision 2) and split by the largest remainder (Decision 10).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest

from meterhub.billing.money.ledger import account_balances, outstanding_by_debt
from meterhub.billing.money.penalty_run import run_penalties
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

R = Decimal("0.095")
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07"]
DUE = {  # day 10 of the next month
    "2025-01": date(2025, 2, 10),
    "2025-02": date(2025, 3, 10),
    "2025-03": date(2025, 4, 10),
    "2025-04": date(2025, 5, 10),
    "2025-05": date(2025, 6, 10),
    "2025-06": date(2025, 7, 10),
}
AS_OF = {  # the last day of the closing period
    "2025-03": date(2025, 3, 31),
    "2025-04": date(2025, 4, 30),
    "2025-05": date(2025, 5, 31),
    "2025-06": date(2025, 6, 30),
    "2025-07": date(2025, 7, 31),
    "2025-08": date(2025, 8, 31),
}


def kop(amount: Decimal) -> int:
    return int(amount.quantize(Decimal("0.01"), ROUND_HALF_UP) * 100)


def by_hand(principal: Decimal, due: date, as_of: date) -> int:
    """An unpaid debt's penalty [kopecks] to ``as_of``: n days late, days 31–90 at r/300, from 91 at r/130."""
    n = (as_of - due).days
    at_300 = max(0, min(n, 90) - 30)
    at_130 = max(0, n - 90)
    return kop(principal * R * at_300 / 300 + principal * R * at_130 / 130)


def test_unpaid_months_add_the_hand_computed_penalty_and_a_constant_number_of_rows(
    conn: psycopg.Connection,
) -> None:
    add_building(conn, "ST", {"ST-1": "1"})
    for month in MONTHS[:-1]:
        add_period(conn, "ST", month, "closed")
        add_charge(conn, "ST", month, "ST-1", "electricity", "1000.00")
        add_charge(conn, "ST", month, "ST-1", "cold_water", "500.00")
    # the first months by hand, one debt = 1 500.00:
    # 2025-03: January 49 days late → 19 days at 1/300: 1500 × 0.095 × 19 / 300 = 9.025 → 9.03 (half up)
    assert by_hand(Decimal(1500), DUE["2025-01"], AS_OF["2025-03"]) == 903
    # 2025-05: January 110 days late → 60 × 0.475 + 20 × 1500 × 0.095 / 130 = 28.50 + 21.923… = 50.42
    assert by_hand(Decimal(1500), DUE["2025-01"], AS_OF["2025-05"]) == 5042
    # February 82 days late → 52 × 0.475 = 24.70
    assert by_hand(Decimal(1500), DUE["2025-02"], AS_OF["2025-05"]) == 2470
    billed: dict[str, int] = {}
    for closing in ["2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]:
        add_period(conn, "ST", closing, "closed" if closing in MONTHS else "draft")
        run_penalties(conn, "ST", BillingPeriod.parse(closing))
        accrued = {
            debt: by_hand(Decimal(1500), due, AS_OF[closing])
            for debt, due in DUE.items()
            if debt < closing and by_hand(Decimal(1500), due, AS_OF[closing])
        }
        added = sum(k - billed.get(debt, 0) for debt, k in accrued.items())
        billed.update(accrued)
        debts = dict(
            conn.execute(
                "SELECT debt_period, sum(accrued_kopecks) FROM penalty_lines"
                " WHERE closing_period = %s GROUP BY debt_period",
                (closing,),
            ).fetchall()
        )
        assert debts == accrued, closing
        balances = account_balances(conn, closing, account_nos=["ST-1"])["ST-1"]
        assert sum(b.penalties for b in balances) == added, closing
        # the debts grow by one a month; the rows stored for the month stay one per service
        (rows,) = conn.execute(
            "SELECT count(*) FROM penalty_accruals WHERE closing_period = %s", (closing,)
        ).fetchone()
        assert rows == 2, closing
        # Decision 10: each debt's total split 2 : 1 by principal, the odd kopeck to the larger remainder
        for debt, total in accrued.items():
            parts = dict(
                conn.execute(
                    "SELECT service, accrued_kopecks FROM penalty_lines"
                    " WHERE closing_period = %s AND debt_period = %s",
                    (closing, debt),
                ).fetchall()
            )
            third = Decimal(total) / 3
            assert parts["electricity"] + parts["cold_water"] == total
            assert abs(parts["cold_water"] - third) < 1, (closing, debt, parts)
    assert sorted(billed) == ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"]
    # the billed penalty of every debt is what the ledger still shows owed on it
    owed = outstanding_by_debt(conn, ["ST-1"])["ST-1"]
    assert {p: sum(s.values()) for (p, kind), s in owed.items() if kind == "penalty"} == billed
    # a re-run of the draft replaces its rows
    run_penalties(conn, "ST", BillingPeriod(2025, 8))
    (rows,) = conn.execute(
        "SELECT count(*) FROM penalty_accruals WHERE closing_period = '2025-08'"
    ).fetchone()
    assert rows == 2
    conn.rollback()


def test_a_debt_paid_off_is_not_billed_again_in_later_months(conn: psycopg.Connection) -> None:
    add_building(conn, "SP", {"SP-1": "1"})
    add_period(conn, "SP", "2025-01", "closed")
    add_charge(conn, "SP", "2025-01", "SP-1", "electricity", "1000.00")
    add_charge(conn, "SP", "2025-01", "SP-1", "cold_water", "500.00")
    post_payment(
        conn,
        account_no="SP-1",
        amount_kopecks=150000,
        paid_on=date(2025, 4, 15),
        payment_id="sp1",
        source="t",
    )
    totals = {}
    for closing in ["2025-03", "2025-04", "2025-05", "2025-06"]:
        add_period(conn, "SP", closing, "draft")
        run_penalties(conn, "SP", BillingPeriod.parse(closing))
        (totals[closing],) = conn.execute(
            "SELECT coalesce(sum(amount_kopecks), 0) FROM penalty_lines WHERE closing_period = %s", (closing,)
        ).fetchone()
    # 31.03: 19 days → 9.03; paid on 15.04 (day 64, the payment day accrues): 34 days at 1/300 →
    # 1500 × 0.095 × 34 / 300 = 16.15, of which April adds 16.15 − 9.03 = 7.12; nothing afterwards
    assert totals == {"2025-03": 903, "2025-04": 1615 - 903, "2025-05": 0, "2025-06": 0}
    settled = conn.execute(
        "SELECT closing_period, sum(accrued_kopecks) FROM penalty_settled GROUP BY 1"
    ).fetchall()
    assert settled == [("2025-04", 1615)]
    conn.rollback()


def test_a_debt_paid_by_a_payment_dated_before_the_last_calculation_stays_settled(
    conn: psycopg.Connection,
) -> None:
    """A payment posted after a close but dated before its calculation day settles the debt from the next
    close on (the next close skips it, as before); later closes, whose rows no longer carry the debt, must
    skip it too."""
    add_building(conn, "SL", {"SL-1": "1"})
    add_period(conn, "SL", "2025-01", "closed")
    add_charge(conn, "SL", "2025-01", "SL-1", "electricity", "1500.00")
    totals = {}
    for closing in ["2025-03", "2025-04", "2025-05", "2025-06"]:
        add_period(conn, "SL", closing, "draft")
        run_penalties(conn, "SL", BillingPeriod.parse(closing))
        if closing == "2025-03":  # posted after the March calculation, paid on 20.03
            post_payment(
                conn,
                account_no="SL-1",
                amount_kopecks=150000,
                paid_on=date(2025, 3, 20),
                payment_id="sl1",
                source="t",
            )
        (totals[closing],) = conn.execute(
            "SELECT coalesce(sum(amount_kopecks), 0) FROM penalty_lines WHERE closing_period = %s", (closing,)
        ).fetchone()
    # 31.03: 19 days at 1/300 on 1 500.00 = 9.025 → 9.03; then nothing
    assert totals == {"2025-03": 903, "2025-04": 0, "2025-05": 0, "2025-06": 0}
    conn.rollback()


OLD_COLUMNS = (
    "building_id, closing_period, account_no, service, debt_period, due_date, as_of, principal_kopecks,"
    " unpaid_kopecks, rate_day, rate_percent, days_overdue, accrued_exact, accrued_kopecks, amount_kopecks,"
    " formula, details"
)


def _old_row(closing, account, service, debt, due, as_of, principal, unpaid, days, exact, accrued, amount):
    details = (
        f'{{"lines": [{{"days": {days}, "base": "{principal / 100:.2f}"}}], "notes": [],'
        f' "debt": {{"accrued_kopecks": {accrued}}}}}'
    )
    return (
        "UP", closing, account, service, debt, due, as_of, principal, unpaid, as_of, Decimal("9.5"), days,
        Decimal(exact), accrued, amount, "ЖК РФ ст. 155 ч. 14", details,
    )  # fmt: skip


def test_a_database_with_old_penalty_rows_keeps_working_after_the_upgrade(empty_db_url: str) -> None:
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.migrate import migrate

    with connect(empty_db_url) as conn:
        migrate(conn, MIGRATION_SOURCES, until=170)  # the per-debt table as the old close wrote it
        conn.autocommit = False
        add_building(conn, "UP", {"UP-1": "1", "UP-2": "2"})
        for month in ("2025-01", "2025-02", "2025-03", "2025-04"):
            add_period(conn, "UP", month, "closed")
        add_period(conn, "UP", "2025-05", "draft")
        for month in ("2025-01", "2025-02"):
            add_charge(conn, "UP", month, "UP-1", "electricity", "1000.00")
            add_charge(conn, "UP", month, "UP-1", "cold_water", "500.00")
        add_charge(conn, "UP", "2025-01", "UP-2", "electricity", "1000.00")
        add_charge(conn, "UP", "2025-01", "UP-2", "cold_water", "500.00")
        jan, feb, mar31, apr30 = date(2025, 2, 10), date(2025, 3, 10), date(2025, 3, 31), date(2025, 4, 30)
        e, c, j, f = "electricity", "cold_water", "2025-01", "2025-02"
        old = [
            # UP-1, 31.03: January 19 days → 9.025 → 9.03 = 6.02 + 3.01
            _old_row("2025-03", "UP-1", e, j, jan, mar31, 100000, 100000, 49, "6.0166", 602, 602),
            _old_row("2025-03", "UP-1", c, j, jan, mar31, 50000, 50000, 49, "3.0083", 301, 301),
            # 30.04: January 49 days → 23.275 → 23.28 = 15.52 + 7.76; February 21 days → 9.975 → 9.98
            # = 6.65 + 3.33 (665.33… and 332.66… kopecks: the odd kopeck to the larger remainder)
            _old_row("2025-04", "UP-1", e, j, jan, apr30, 100000, 100000, 79, "15.5166", 1552, 950),
            _old_row("2025-04", "UP-1", c, j, jan, apr30, 50000, 50000, 79, "7.7583", 776, 475),
            _old_row("2025-04", "UP-1", e, f, feb, apr30, 100000, 100000, 51, "6.65", 665, 665),
            _old_row("2025-04", "UP-1", c, f, feb, apr30, 50000, 50000, 51, "3.325", 333, 333),
            # UP-2 paid January in full on 20.03 (day 38): 8 days → 3.80 = 2.53 + 1.27; skipped since
            _old_row("2025-03", "UP-2", e, j, jan, mar31, 100000, 0, 38, "2.5333", 253, 253),
            _old_row("2025-03", "UP-2", c, j, jan, mar31, 50000, 0, 38, "1.2666", 127, 127),
        ]  # fmt: skip
        with conn.cursor() as cur:
            values = ", ".join(["%s"] * 17)
            cur.executemany(f"INSERT INTO penalty_lines ({OLD_COLUMNS}) VALUES ({values})", old)
        conn.commit()
        before = conn.execute("SELECT * FROM penalty_lines ORDER BY 2, 3, 4, 5").fetchall()
        conn.commit()

        migrate(conn, MIGRATION_SOURCES)
        conn.autocommit = False
        # the view shows the rows as they were, column for column
        assert conn.execute("SELECT * FROM penalty_lines ORDER BY 2, 3, 4, 5").fetchall() == before
        assert conn.execute("SELECT count(*) FROM penalty_accruals").fetchone() == (6,)
        april = account_balances(conn, "2025-04", account_nos=["UP-1"])["UP-1"]
        assert {b.service: b.penalties for b in april} == {"cold_water": 475 + 333, "electricity": 950 + 665}
        assert {b.service: b.closing for b in april} == {
            "cold_water": 2 * 50000 + 301 + 475 + 333,
            "electricity": 2 * 100000 + 602 + 950 + 665,
        }
        owed = outstanding_by_debt(conn, ["UP-1"])["UP-1"]
        assert owed[("2025-01", "penalty")] == {"electricity": 1552, "cold_water": 776}
        assert owed[("2025-02", "penalty")] == {"electricity": 665, "cold_water": 333}
        post_payment(
            conn,
            account_no="UP-2",
            amount_kopecks=150000,
            paid_on=date(2025, 3, 20),
            payment_id="up2",
            source="t",
        )

        # the May close continues from the converted rows
        run_penalties(conn, "UP", BillingPeriod(2025, 5))
        may = dict(
            conn.execute(
                "SELECT account_no || ' ' || debt_period, sum(amount_kopecks) FROM penalty_lines"
                " WHERE closing_period = '2025-05' GROUP BY 1"
            ).fetchall()
        )
        # 31.05: January 110 days → 28.50 + 20 × 1500 × 0.095 / 130 (21.923…) = 50.42, adds 50.42 − 23.28;
        # February 82 days → 52 days at 1/300 = 24.70, adds 24.70 − 9.98; UP-2's paid-off January nothing
        assert may == {"UP-1 2025-01": 5042 - 2328, "UP-1 2025-02": 2470 - 998}
        conn.rollback()
