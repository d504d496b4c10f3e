"""A legacy debt older than meterhub's due-day table (a time-barred 2015 debt): a payment pays it first
(oldest first, time-barred included — decision 5), the close's penalty run takes its legacy due date, and
only the days from the cutover are added to its penalty."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from meterhub.billing.close.period import CloseOptions, close_building
from meterhub.billing.imports import import_directory, import_file
from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.timeseries.database import connect

pytestmark = pytest.mark.db

MIGRATION = Path(__file__).parent.parent / "data" / "billing" / "migration"


def _days(first: date, last: date) -> int:
    return (last - first).days + 1 if last >= first else 0


def _overlap(first: date, last: date, window: tuple[date, date]) -> int:
    return _days(max(first, window[0]), min(last, window[1]))


@dataclass(frozen=True)
class LegacyDebt:
    paid: list[tuple]  # the allocations of the 120.00 paid on 02.06.2026
    line: tuple  # the 2015 debt's penalty line of the June 2026 close


@pytest.fixture(scope="module")
def legacy_debt(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> LegacyDebt:
    """The migrated world with a 2015 debt of LS-1, 120.00 paid on 02.06.2026 and June 2026 closed —
    the starting point of every test here (each test that writes more rolls its writes back)."""
    balances = tmp_path_factory.mktemp("legacy") / "opening_balances.csv"
    balances.write_text(
        (MIGRATION / "opening_balances.csv").read_text(encoding="utf-8")
        + "LS-1;cold_water;2015-06;principal;100,00;10.07.2015\n",
        encoding="utf-8",
    )
    with connect(db_url) as conn:
        import_directory(conn, MIGRATION)
        import_file(conn, "opening_balances", balances)
        # 120.00 without a named period on 02.06.2026: the 2015 debt (100.00) first, then March 2026
        post_payment(
            conn,
            account_no="LS-1",
            amount_kopecks=12_000,
            paid_on=date(2026, 6, 2),
            payment_id="p",
            source="bk",
        )
        conn.commit()
        paid = conn.execute(
            "SELECT debt_period, kind, a.amount_kopecks FROM payment_allocations a JOIN payments p"
            " USING (payment_pk) WHERE p.payment_id = 'p' ORDER BY debt_period"
        ).fetchall()
        close_building(conn, "M1", BillingPeriod(2026, 6), CloseOptions())
        line = conn.execute(
            "SELECT due_date, accrued_kopecks, amount_kopecks, unpaid_kopecks FROM penalty_lines"
            " WHERE debt_period = '2015-06'"
        ).fetchone()
    return LegacyDebt(paid, line)


def test_a_time_barred_legacy_debt(legacy_debt: LegacyDebt) -> None:
    paid, line = legacy_debt.paid, legacy_debt.line
    assert paid == [("2015-06", "principal", 10_000), ("2026-03", "principal", 2_000)]
    # due 10.07.2015: day 31 = 10.08.2015, days 31–90 (60) at 1/300, from day 91 (09.10.2015) at 1/130,
    # moratoria 06.04–31.12.2020 and 01.04–01.10.2022 accrue nothing (billing-rules.md §4.3); rate 9.5 %.
    due = date(2015, 7, 10)
    k91 = due + timedelta(days=91)
    moratoria = ((date(2020, 4, 6), date(2020, 12, 31)), (date(2022, 4, 1), date(2022, 10, 1)))

    def accrued(as_of: date) -> Decimal:
        days = _days(k91, as_of) - sum(_overlap(k91, as_of, m) for m in moratoria)
        exact = Decimal(100) * Decimal("0.095") * 60 / 300 + Decimal(100) * Decimal("0.095") * days / 130
        return exact.quantize(Decimal("0.01"), ROUND_HALF_UP)

    # paid in full on 02.06 (the payment day accrues): the running total stops there
    total, before = accrued(date(2026, 6, 2)), accrued(date(2026, 5, 31))
    assert line == (due, int(total * 100), int((total - before) * 100), 0)
    assert line[2] in (14, 15)  # two days of 100 × 0.095 / 130 = 0.146…


def test_a_penalty_payment_pays_the_legacy_penalty_and_the_accrual_since_the_cutover(
    db_url: str, legacy_debt: LegacyDebt
) -> None:
    # from the legacy_debt world: LS-1 pays 30.00 «пени» on 20.06.2026 (rolled back at the end)
    with connect(db_url) as conn:
        pk = post_payment(
            conn,
            account_no="LS-1",
            amount_kopecks=3_000,
            paid_on=date(2026, 6, 20),
            payment_id="peni",
            source="bk",
            purpose="Оплата пени",
        )
        parts = conn.execute(
            "SELECT debt_period, kind, amount_kopecks FROM payment_allocations WHERE payment_pk = %s"
            " ORDER BY debt_period, kind",
            (pk,),
        ).fetchall()
        june_2015 = conn.execute(
            "SELECT amount_kopecks FROM penalty_lines WHERE debt_period = '2015-06'"
        ).fetchone()[0]
        conn.rollback()  # the module's world stays as legacy_debt made it
    # Decision 9: the penalties accrued to 20.06. March 2026 (1 000.00, due 20.04, day 31 = 21.05): 20.00
    # of it paid on 02.06, so 21.05–02.06 13 days on 1 000.00 and 03.06–20.06 18 days on 980.00 at 1/300:
    # 4.1166… + 5.586 = 9.7026… → 9.70, less 3.48 up to the cutover = 6.22, plus the legacy 12.34 = 18.56.
    # The 2015 debt, paid on 02.06: its two June days (the close's line). The rest pays principal (March).
    assert parts == [
        ("2015-06", "penalty", june_2015),
        ("2026-03", "penalty", 1856),
        ("2026-03", "principal", 3_000 - 1856 - june_2015),
    ]
