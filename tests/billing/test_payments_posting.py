"""Posting payment registries: idempotent imports, the suspense list, allocation orders through the DB."""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.billing.money.ledger import account_balances, payment_history
from meterhub.billing.money.posting import (
    AlreadyImportedError,
    RegistryFileError,
    import_registry,
    open_suspense,
    post_payment,
    resolve_suspense,
)
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]


@pytest.fixture(scope="module")
def city(db_url: str) -> str:
    """Building PB: accounts A (named-period order), B (oldest first + advance), C (pro rata).

    Each has the same debts: Oct 2025 cold water 300.00 + maintenance 700.00, Nov 2025 cold water 600.00,
    Dec 2025 cold water 500.00 (all closed periods).
    """
    from meterhub.timeseries.database import connect

    with connect(db_url) as conn:
        add_building(conn, "PB", {"A": "1", "B": "2", "C": "3", "D": "4"})
        for period in ("2025-10", "2025-11", "2025-12"):
            add_period(conn, "PB", period, "closed")
        for account in ("A", "B", "C"):
            add_charge(conn, "PB", "2025-10", account, "cold_water", "300.00")
            add_charge(conn, "PB", "2025-10", account, "maintenance", "700.00")
            add_charge(conn, "PB", "2025-11", account, "cold_water", "600.00")
            add_charge(conn, "PB", "2025-12", account, "cold_water", "500.00")
        conn.commit()
    return db_url


def _parts(conn, account: str) -> list[tuple[str | None, str, str, int]]:
    return [
        (a.debt_period, a.service, a.kind, a.amount)
        for p in reversed(payment_history(conn, account))
        for a in p.allocations
    ]


REGISTRY = (
    "Лицевой счёт;Сумма;Дата платежа;Период;Номер платежа;Назначение\r\n"
    "A;1 500,00;15.01.2026;12.2025;P-1;Оплата ЖКУ за 12.2025\r\n"
    "B;2200;2026-01-16;;P-2;\r\n"
    "ZZZ;100,00;16.01.2026;;P-3;unknown account\r\n"
    "C;-5;16.01.2026;;P-4;bad amount\r\n"
    "C;500,00;17.01.2026;;P-5;\r\n"
).encode("cp1251")


def test_registry_posts_good_rows_and_suspends_bad_ones(city: str, conn) -> None:
    result = import_registry(conn, REGISTRY, file_name="sber-0115.csv", source="sber")
    conn.commit()
    assert (result.posted, result.suspense, result.duplicates) == (3, 2, 0)
    assert result.posted_kopecks == 150000 + 220000 + 50000

    # A: 1500 naming December → December 500.00 first, then oldest first: October 300 + 700.
    assert _parts(conn, "A") == [
        ("2025-12", "cold_water", "principal", 50000),
        ("2025-10", "cold_water", "principal", 30000),
        ("2025-10", "maintenance", "principal", 70000),
    ]
    # B: 2200 without a period → all principal oldest first (1000 + 600 + 500 = 2100), 100.00 advance.
    assert _parts(conn, "B") == [
        ("2025-10", "cold_water", "principal", 30000),
        ("2025-10", "maintenance", "principal", 70000),
        ("2025-11", "cold_water", "principal", 60000),
        ("2025-12", "cold_water", "principal", 50000),
        (None, "advance", "advance", 10000),
    ]
    # C: 500 over October pro rata to what is owed: 500 × 300/1000 = 150.00, 500 × 700/1000 = 350.00.
    assert _parts(conn, "C") == [
        ("2025-10", "cold_water", "principal", 15000),
        ("2025-10", "maintenance", "principal", 35000),
    ]

    suspense = open_suspense(conn)
    assert [(s.line, s.payment_id, s.account_raw) for s in suspense] == [(4, "P-3", "ZZZ"), (5, "P-4", "C")]
    assert "unknown account 'ZZZ'" in suspense[0].reason
    assert suspense[0].raw_row == "ZZZ;100,00;16.01.2026;;P-3;unknown account"
    assert suspense[1].reason.startswith("amount: amount must be a positive number")
    assert suspense[1].amount_raw == "-5"


def test_same_file_twice_is_refused_and_repeated_payment_ids_are_skipped(city: str, conn) -> None:
    before = conn.execute("SELECT count(*), sum(amount_kopecks) FROM payments").fetchone()
    with pytest.raises(AlreadyImportedError, match="already imported"):
        import_registry(conn, REGISTRY, file_name="sber-0115-copy.csv", source="sber")
    conn.rollback()
    # Another file (different bytes) re-delivering P-1 and P-5 plus one new payment for D.
    again = (
        b"account,amount,date,period,payment_id\n"
        b"A,1500.00,2026-01-15,2025-12,P-1\n"
        b"C,500.00,2026-01-17,,P-5\n"
        b"D,10.00,2026-01-18,,P-6\n"
    )
    result = import_registry(conn, again, file_name="sber-0118.csv", source="sber")
    conn.commit()
    assert (result.posted, result.duplicates, result.suspense) == (1, 2, 0)
    after = conn.execute("SELECT count(*), sum(amount_kopecks) FROM payments").fetchone()
    assert after == (before[0] + 1, before[1] + 1000)
    # The same payment id from another source is a different payment.
    other = import_registry(
        conn, b"account,amount,date,payment_id\nD,1.00,2026-01-18,P-6\n", file_name="x.csv", source="post"
    )
    conn.commit()
    assert other.posted == 1


def test_unreadable_file_is_refused_without_recording_it(city: str, conn) -> None:
    files = conn.execute("SELECT count(*) FROM payment_files").fetchone()[0]
    with pytest.raises(RegistryFileError, match="missing column"):
        import_registry(conn, b"account;sum\nA;1\n", file_name="broken.csv", source="sber")
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM payment_files").fetchone()[0] == files


def test_suspense_row_is_posted_to_the_right_account(city: str, conn) -> None:
    row = next(s for s in open_suspense(conn) if s.payment_id == "P-3")
    pk = resolve_suspense(conn, row.suspense_id, account_no="D", paid_on=date(2026, 1, 16))
    conn.commit()
    assert pk is not None
    posted = next(p for p in payment_history(conn, "D") if p.payment_id == "P-3")
    assert (posted.amount, posted.paid_on, posted.source) == (10000, date(2026, 1, 16), "sber")
    bad = next(s for s in open_suspense(conn) if s.line == 5)
    assert resolve_suspense(conn, bad.suspense_id, write_off="returned to the payer") is None
    conn.commit()
    assert [s.payment_id for s in open_suspense(conn)] == []
    with pytest.raises(ValueError, match="already resolved"):
        resolve_suspense(conn, bad.suspense_id, write_off="again")
    conn.rollback()


def test_payment_into_a_closed_month_is_booked_in_the_next_open_one(city: str, conn) -> None:
    # PB closed October–December 2025; a payment dated 20.12.2025 posted now counts in January 2026.
    pk = post_payment(
        conn,
        account_no="C",
        amount_kopecks=100,
        paid_on=date(2025, 12, 20),
        payment_id="late-1",
        source="bank",
    )
    conn.commit()
    booked = conn.execute(
        "SELECT DISTINCT booked_period FROM payment_allocations WHERE payment_pk = %s", (pk,)
    )
    assert booked.fetchall() == [("2026-01",)]
    balances = {b.service: b for b in account_balances(conn, BillingPeriod(2025, 12), account_nos=["C"])["C"]}
    assert balances["cold_water"].paid == 0  # December's closed balance is unchanged


def test_unknown_account_in_post_payment_is_a_clear_error(city: str, conn) -> None:
    with pytest.raises(LookupError, match="account 'NOPE' does not exist"):
        post_payment(
            conn, account_no="NOPE", amount_kopecks=1, paid_on=date(2026, 1, 1), payment_id="x", source="s"
        )
    conn.rollback()


def test_corrected_redelivery_resolves_the_suspense_row(city: str, conn) -> None:
    first = b"account;amount;date;payment_id\nNOPE;12,00;2026-01-20;V-1\n"
    assert import_registry(conn, first, file_name="vtb-1.csv", source="vtb").suspense == 1
    fixed = b"account;amount;date;payment_id\nD;12,00;2026-01-20;V-1\n"
    assert import_registry(conn, fixed, file_name="vtb-2.csv", source="vtb").posted == 1
    conn.commit()
    assert [s for s in open_suspense(conn) if s.source == "vtb"] == []
    (resolution,) = conn.execute("SELECT resolution FROM payment_suspense WHERE source = 'vtb'").fetchone()
    assert resolution == "posted from vtb-2.csv, line 2"
