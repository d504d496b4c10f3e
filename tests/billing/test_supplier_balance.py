"""Balance per supplier and period (расчёты с поставщиками): payments split among payees, bank commission
withheld, transfers imported — reconciling to the kopeck with the ledger. Amounts hand-computed below."""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.billing.money.ledger import account_balances
from meterhub.billing.money.posting import post_payment
from meterhub.billing.money.suppliers.store import ADVANCE_PAYEE, record_commissions, supplier_balances
from meterhub.billing.money.suppliers.transfers import (
    TransferStatementError,
    import_transfer_statement,
    parse_transfer_statement,
    transfer_register,
)
from meterhub.billing.rules.periods import BillingPeriod
from tests.billing.money_data import add_building, add_charge, add_period

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]

SUPPLIERS = [
    ("uk", "ООО «УК Пример»", "management"),
    ("energo", "АО «Энергосбыт»", "resource_supplier"),
    ("vodokanal", "МУП «Водоканал»", "resource_supplier"),
    ("fkr", "НО «Фонд капремонта»", "capital_repair_operator"),
]
# electricity belongs to the УК in January and to the РСО «Энергосбыт» from February (a direct contract)
ASSIGNMENTS = [
    ("electricity", date(2025, 1, 1), "uk"),
    ("electricity", date(2025, 2, 1), "energo"),
    ("cold_water", date(2025, 1, 1), "vodokanal"),
    ("wastewater", date(2025, 1, 1), "vodokanal"),
    ("maintenance", date(2025, 1, 1), "uk"),
    ("capital_repair", date(2025, 1, 1), "fkr"),
]
JANUARY = {
    "A1": {
        "electricity": "1000.00",
        "cold_water": "300.00",
        "wastewater": "200.00",
        "maintenance": "500.00",
        "capital_repair": "250.00",
    },
    "A2": {"electricity": "800.00", "cold_water": "200.00", "maintenance": "400.00"},
}
FEBRUARY = {
    "A1": {
        "electricity": "1100.00",
        "cold_water": "310.00",
        "maintenance": "500.00",
        "capital_repair": "250.00",
    },
    "A2": {"electricity": "700.00", "cold_water": "190.00", "maintenance": "400.00"},
}
STATEMENT = (
    "supplier;period;transferred_on;document_no;amount;purpose\n"
    "vodokanal;2025-02;2025-03-03;101;600,00;Перечисление за ХВС и водоотведение, февраль 2025\n"
    "fkr;2025-02;2025-03-03;102;247.00;Взносы на капремонт, февраль 2025\n"
).encode("windows-1251")


@pytest.fixture(scope="module")
def city(db_url: str) -> str:
    from meterhub.timeseries.database import connect

    with connect(db_url) as conn:
        add_building(conn, "B1", {"A1": "1", "A2": "2"})
        for supplier, name, kind in SUPPLIERS:
            conn.execute(
                "INSERT INTO suppliers (supplier_id, name, kind) VALUES (%s, %s, %s)", (supplier, name, kind)
            )
        for service, valid_from, supplier in ASSIGNMENTS:
            conn.execute(
                "INSERT INTO service_suppliers (building_id, service, valid_from, supplier_id)"
                " VALUES ('B1', %s, %s, %s)",
                (service, valid_from, supplier),
            )
        conn.execute(
            "INSERT INTO agent_contracts (source, valid_from, percent, minimum_kopecks, borne_by) VALUES"
            " ('sber', '2025-01-01', 1.2, 0, 'supplier'), ('post', '2025-01-01', 2, 3000, 'management')"
        )
        add_period(conn, "B1", "2025-01", "closed")
        for account, lines in JANUARY.items():
            for service, amount in lines.items():
                add_charge(conn, "B1", "2025-01", account, service, amount)
        add_period(conn, "B1", "2025-02", "draft")
        # A1 pays January in full through Sberbank, naming the period
        post_payment(
            conn,
            account_no="A1",
            amount_kopecks=225_000,
            paid_on=date(2025, 2, 5),
            payment_id="s1",
            source="sber",
            period=BillingPeriod(2025, 1),
        )
        # A2 pays 1 000.00 at the post office without a period: oldest debt first, pro rata
        post_payment(
            conn,
            account_no="A2",
            amount_kopecks=100_000,
            paid_on=date(2025, 2, 10),
            payment_id="p1",
            source="post",
        )
        # A1 pays 100.00 more: nothing is owed yet, so it is an advance
        post_payment(
            conn,
            account_no="A1",
            amount_kopecks=10_000,
            paid_on=date(2025, 2, 20),
            payment_id="s2",
            source="sber",
        )
        for account, lines in FEBRUARY.items():
            for service, amount in lines.items():
                add_charge(conn, "B1", "2025-02", account, service, amount)
        assert record_commissions(conn) == 3
        assert record_commissions(conn) == 0  # idempotent
        conn.commit()
        import_transfer_statement(conn, STATEMENT, "vypiska-2025-03.csv")
        conn.commit()
    return db_url


def test_commissions_by_contract(city: str, conn) -> None:
    rows = dict(
        conn.execute(
            "SELECT p.payment_id, c.amount_kopecks"
            " FROM payment_commissions c JOIN payments p USING (payment_pk)"
        ).fetchall()
    )
    # sber 1.2 %: 2 250.00 × 1.2 % = 27.00; 100.00 × 1.2 % = 1.20.
    # post: 2 % of 1 000.00 = 20.00 < the minimum 30.00
    assert rows == {"s1": 2_700, "s2": 120, "p1": 3_000}


def test_supplier_balance_hand_computed(city: str, conn) -> None:
    balances = {b.supplier_id: b for b in supplier_balances(conn, "2025-02")}
    # Paid in February (booked in 2025-02), by the supplier in force in the DEBT period (January):
    #  s1 (A1, January in full): electricity 1000.00 + maintenance 500.00 → uk 1500.00;
    #     cold 300.00 + wastewater 200.00 → vodokanal 500.00; capital repair 250.00 → fkr.
    #  p1 (A2, 1000.00 over January's 800/200/400, largest remainder in kopecks):
    #     100000·80000/140000 = 57142.857 → 57143; ·20000/… = 14285.714 → 14286; ·40000/… = 28571.428 → 28571
    #     → uk 571.43 + 285.71 = 857.14; vodokanal 142.86.
    #  s2: 100.00 advance.
    assert balances["uk"].paid == 150_000 + 85_714
    assert balances["vodokanal"].paid == 50_000 + 14_286
    assert balances["fkr"].paid == 25_000
    assert balances[ADVANCE_PAYEE].paid == 10_000
    assert "energo" not in balances or balances["energo"].paid == 0
    # Withheld: s1's 27.00 split 1500/500/250 of 2250 → 18.00 / 6.00 / 3.00; s2's 1.20 on the advance;
    # p1's 30.00 is borne by the УК (management) → not withheld from anybody.
    withheld = (balances["uk"].withheld, balances["vodokanal"].withheld, balances["fkr"].withheld)
    assert withheld == (1_800, 600, 300)
    assert balances[ADVANCE_PAYEE].withheld == 120
    # Transferred in March for February: vodokanal 600.00, fkr 247.00
    assert balances["vodokanal"].transferred == 60_000
    assert balances["vodokanal"].owed == 64_286 - 600 - 60_000  # 36.86 still owed to the Водоканал
    assert balances["fkr"].owed == 0
    # Charged in February, by the supplier in force in February: electricity is the РСО's now
    assert balances["energo"].charged == 110_000 + 70_000
    assert balances["vodokanal"].charged == 31_000 + 19_000
    assert balances["uk"].charged == 50_000 + 40_000
    assert balances["fkr"].charged == 25_000


def test_balances_reconcile_with_the_ledger(city: str, conn) -> None:
    for period in ("2025-01", "2025-02"):
        rows = supplier_balances(conn, period)
        ledger = [b for bs in account_balances(conn, period).values() for b in bs]
        assert sum(b.charged for b in rows) == sum(b.charged + b.recalculated + b.penalties for b in ledger)
        assert sum(b.paid for b in rows) == sum(b.paid for b in ledger)
        (withheld,) = conn.execute(
            "SELECT coalesce(sum(c.amount_kopecks), 0) FROM payment_commissions c JOIN payment_allocations a"
            " ON a.payment_pk = c.payment_pk AND a.applied_in IS NULL"
            " WHERE c.borne_by = 'supplier' AND a.booked_period = %s"
            " AND a.allocation_id = (SELECT min(allocation_id) FROM payment_allocations x"
            " WHERE x.payment_pk = c.payment_pk)",
            (period,),
        ).fetchone()
        assert sum(b.withheld for b in rows) == withheld
    (paid,) = conn.execute("SELECT sum(amount_kopecks) FROM payments").fetchone()
    assert sum(b.paid for b in supplier_balances(conn, "2025-02")) == paid
    # the owed balance carries into the next period
    march = {b.supplier_id: b for b in supplier_balances(conn, "2025-03")}
    assert march["vodokanal"].owed_opening == 3_686
    assert march["vodokanal"].owed == 3_686


def test_transfer_register_csv(city: str, conn) -> None:
    lines = transfer_register(conn, "2025-02").splitlines()
    assert lines[0] == "supplier;name;owed_opening;charged;paid;withheld;due;transferred;owed"
    assert "vodokanal;МУП «Водоканал»;0.00;500.00;642.86;6.00;636.86;600.00;36.86" in lines


def test_statement_errors_are_listed_and_nothing_imported(city: str, conn) -> None:
    with pytest.raises(TransferStatementError, match="imported before"):
        import_transfer_statement(conn, STATEMENT, "again.csv")
    bad = b"supplier;period;transferred_on;document_no;amount\nvodokanal;2025-13;2025-03-40;;abc\n"
    with pytest.raises(TransferStatementError) as info:
        parse_transfer_statement(bad)
    assert len(info.value.problems) == 4
    with pytest.raises(TransferStatementError, match="unknown supplier 'nobody'"):
        import_transfer_statement(
            conn,
            b"supplier;period;transferred_on;document_no;amount\nnobody;2025-02;2025-03-01;9;1.00\n",
            "x.csv",
        )
    (count,) = conn.execute("SELECT count(*) FROM supplier_transfers").fetchone()
    assert count == 2


def test_supplier_own_charges_become_charge_lines_of_the_close(city: str, conn, tmp_path) -> None:
    from meterhub.billing.imports import import_file
    from meterhub.billing.money.penalty_run import close_money

    add_period(conn, "B1", "2025-04", "draft")
    conn.commit()
    path = tmp_path / "supplier_charges.csv"
    path.write_text(
        "supplier;account;service;period;amount;volume;unit;tariff;description\n"
        "fkr;A1;capital_repair;2025-04;271.50;54.30;m2;5.00;взнос 54,30 м² × 5,00\n",
        encoding="utf-8",
    )
    import_file(conn, "supplier_charges", path)
    for _ in range(2):  # a draft re-run writes them once again, never twice
        close_money(conn, "B1", BillingPeriod(2025, 4))
    rows = conn.execute(
        "SELECT account_no, service, amount, method FROM charge_lines WHERE period = '2025-04'"
    ).fetchall()
    assert [(a, s, str(x), m) for a, s, x, m in rows] == [("A1", "capital_repair", "271.50", "supplier")]
    balances = {b.supplier_id: b for b in supplier_balances(conn, "2025-04")}
    (penalties,) = conn.execute(  # the close's penalties on the operator's older unpaid contributions
        "SELECT coalesce(sum(amount_kopecks), 0) FROM penalty_lines WHERE closing_period = '2025-04'"
        " AND service = 'capital_repair'"
    ).fetchone()
    assert balances["fkr"].charged == 27_150 + penalties
    conn.rollback()
