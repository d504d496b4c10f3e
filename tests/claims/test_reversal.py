"""Поворот исполнения end to end through the claims API and billing's ledger: money collected under a court
order, the order cancelled, the court's ruling returning part of it — the costs part and the debt lines paid
last reopened first — posted as a negative writ payment; the debt statement, the balances and the penalties
as if the returned money had never been paid; the debtor's card. Every amount by hand."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import create_user
from meterhub.billing.money.ledger import account_balances, outstanding_by_debt
from meterhub.core.settings import Settings
from tests.claims.claims_data import add_owner, add_person, debts_of_2025

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    # Building CR, account R1 (premise 1), the debts of debts_of_2025: cold water 1 000.00 in January,
    # February and March 2025, hot water 500.00 in January (due the 10th of the next month); one owner.
    with psycopg.connect(db_url) as conn:
        debts_of_2025(conn, "CR", {"R1": "1"})
        owner = add_person(conn, "Рябов", "Роман", "Романович", date(1975, 5, 5))
        add_owner(conn, "CR", "1", owner, (1, 1), date(2005, 1, 1))
        conn.execute(
            "INSERT INTO claims_claimant (name, inn, ogrn, address, bank_details, signatory)"
            " SELECT 'ООО «УК Тестовая»', '7707083893', '1027700132195', 'г. Тест', 'р/с …', 'Директор'"
            " WHERE NOT EXISTS (SELECT 1 FROM claims_claimant)"
        )
        conn.commit()
    with psycopg.connect(db_url, autocommit=True) as conn:
        uid = create_user(conn, "lawyer7", "correct-horse-battery", Role.LAWYER).id
        token = {"Authorization": f"Bearer {issue_bearer(conn, uid, timedelta(days=1), 't').token}"}
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789",
        db_pool_max_size=2,
    )
    with TestClient(create_app(settings)) as c:
        c.lawyer = token
        yield c


def test_a_ruling_returns_money_collected_under_a_cancelled_order(client, db_url: str) -> None:
    lawyer = client.lawyer
    batch = client.post(
        "/api/v1/claims/cases", json={"accounts": ["R1"], "as_of": "2025-04-30"}, headers=lawyer
    )
    (prepared,) = batch.json()
    case_id = prepared["case_id"]
    steps = f"/api/v1/claims/cases/{case_id}/steps"
    for step in (
        {"state": "filed", "happened_on": "2025-05-05"},
        {"state": "order_issued", "happened_on": "2025-05-20", "case_number": "2-81/2025"},
        {"state": "enforcement", "happened_on": "2025-06-05"},
    ):
        assert client.post(steps, json=step, headers=lawyer).status_code == 201
    # The order: 3 500.00 and penalties 29.93 (January 15.52 + 7.76, February 6.65, test_cases.py), costs
    # 2 000.00. The bailiffs collect 2 000.00 on 15.06 (principal oldest first: January 1 000.00 + 500.00,
    # February 500.00) and 2 600.00 on 25.06 (February 500.00, March 1 000.00, the penalties 29.93 — all of
    # the award, 1 529.93 — then 1 070.07 of the costs).
    receipts = f"/api/v1/claims/cases/{case_id}/writ-receipts"
    first = client.post(
        receipts,
        json={"amount_kopecks": 200000, "received_on": "2025-06-15", "reference": "ПП 1", "debtor_no": 1},
        headers=lawyer,
    ).json()
    second = client.post(
        receipts,
        json={"amount_kopecks": 260000, "received_on": "2025-06-25", "reference": "ПП 2", "debtor_no": 1},
        headers=lawyer,
    ).json()
    assert (first["to_debts_kopecks"], first["to_costs_kopecks"]) == (200000, 0)
    assert (second["to_debts_kopecks"], second["to_costs_kopecks"], second["to_advance_kopecks"]) == (
        152993,
        107007,
        0,
    )
    reversals = f"/api/v1/claims/cases/{case_id}/reversals"
    ruling = {
        "debtor_no": 1,
        "amount_kopecks": 300000,
        "ruled_on": "2025-08-01",
        "ruling_number": "13-5/2025",
    }
    early = client.post(reversals, json=ruling, headers=lawyer)
    assert early.status_code == 422 and "was not cancelled" in early.text  # the order still stands
    assert (
        client.post(
            steps, json={"state": "order_cancelled", "happened_on": "2025-07-10"}, headers=lawyer
        ).status_code
        == 201
    )
    too_much = client.post(reversals, json={**ruling, "amount_kopecks": 460001}, headers=lawyer)
    assert too_much.status_code == 422 and "4600.00 ₽ paid debts and court costs" in too_much.text

    # The ruling returns 3 000.00, last paid first: the second receipt's costs 1 070.07, then its debt
    # lines backwards — February's penalty 6.65, January's 7.76 and 15.52, March 1 000.00, February 500.00
    # (1 529.93) — and 400.00 of the first receipt's February 500.00: 1 070.07 + 1 529.93 + 400.00 =
    # 3 000.00. What stays paid, 1 600.00, is what 1 600.00 collected alone would have paid: January
    # 1 500.00 and 100.00 of February.
    r = client.post(reversals, json=ruling, headers=lawyer)
    assert r.status_code == 201, r.text
    assert (r.json()["from_costs_kopecks"], r.json()["from_debts_kopecks"]) == (107007, 192993)

    with psycopg.connect(db_url) as conn:
        (payment,) = conn.execute(
            "SELECT payment_pk, amount_kopecks, paid_on, source FROM payments WHERE account_no = 'R1'"
            " AND amount_kopecks < 0"
        ).fetchall()
        assert payment[1:] == (-192993, date(2025, 8, 1), "writ")
        lines = conn.execute(
            "SELECT debt_period, service, kind, amount_kopecks, rule FROM payment_allocations"
            " WHERE payment_pk = %s ORDER BY debt_period, kind, service",
            (payment[0],),
        ).fetchall()
        assert lines == [
            ("2025-01", "cold_water", "penalty", -1552, "writ:reversal"),
            ("2025-01", "hot_water", "penalty", -776, "writ:reversal"),
            ("2025-02", "cold_water", "penalty", -665, "writ:reversal"),
            ("2025-02", "cold_water", "principal", -90000, "writ:reversal"),  # 500.00 + 400.00
            ("2025-03", "cold_water", "principal", -100000, "writ:reversal"),
        ]
        # Billing owes the reopened debts again: February 900.00, March 1 000.00 (and April's 1 000.00, the
        # current month); January stays paid. No close ran, so no penalty is booked in the ledger.
        owed = outstanding_by_debt(conn, ["R1"])["R1"]
        assert owed == {
            ("2025-02", "principal"): {"cold_water": 90000},
            ("2025-03", "principal"): {"cold_water": 100000},
            ("2025-04", "principal"): {"cold_water": 100000},
        }
        # The balance of August 2025: charged 1 500.00 + 3 × 1 000.00 (+ April's 1 000.00) = 4 500.00,
        # paid 2 000.00 + 1 529.93 − 1 929.93 = 1 600.00; owed 2 900.00, all cold water (hot water was
        # paid in January).
        balances = {b.service: b.closing for b in account_balances(conn, "2025-08", account_nos=["R1"])["R1"]}
        assert balances == {"cold_water": 290000, "hot_water": 0}
        # the court costs: 2 000.00 paid on filing, 1 070.07 recovered and returned
        recovered = conn.execute(
            "SELECT (SELECT sum(to_costs_kopecks) FROM claims_writ_receipts WHERE case_id = %(c)s)"
            " - (SELECT sum(from_costs_kopecks) FROM claims_execution_reversals WHERE case_id = %(c)s)",
            {"c": case_id},
        ).fetchone()[0]
        assert recovered == 0

    # The debtor's card on 01.08.2025: the ruling, the negative payment, and the penalties as if the returned
    # money had never been paid (9.5 %, 1/300 for days 31–90, 1/130 from day 91, the payment day accruing):
    #   January (due 10.02), paid 15.06: 13.03..11.05 60 days at 1/300 on 1 500.00 = 28.50, 12.05..15.06
    #     35 days at 1/130 = 1 500 × 0.095 / 130 × 35 = 38.365… → 66.865… → 66.87 (its 23.28 paid is returned)
    #   February (due 10.03), 100.00 kept of 15.06: 10.04..08.06 60 days on 1 000.00 = 19.00, 09.06..15.06
    #     7 days at 1/130 = 5.115…, 16.06..01.08 47 days on 900.00 = 900 × 0.095 / 130 × 47 = 30.911… → 55.03
    #   March (due 10.04), nothing kept: 11.05..09.07 60 days = 19.00, 10.07..01.08 23 days at 1/130 on
    #     1 000.00 = 16.807… → 35.81 (had the 25.06 payment stayed credited: 14.57)
    #   April (the current month of the order, never claimed, due 10.05): day 31 is 10.06, 10.06..01.08 53
    #     days at 1/300 on 1 000.00 = 16.783… → 16.78
    card = client.get("/api/v1/claims/debtors/R1", params={"as_of": "2025-08-01"}, headers=lawyer).json()
    penalties: dict[str, int] = {}
    principal: dict[str, int] = {}
    for d in card["debts"]:
        target = penalties if d["kind"] == "penalty" else principal
        target[d["period"]] = target.get(d["period"], 0) + d["amount_kopecks"]
    assert penalties == {"2025-01": 6687, "2025-02": 5503, "2025-03": 3581, "2025-04": 1678}
    assert principal == {"2025-02": 90000, "2025-03": 100000, "2025-04": 100000}
    (returned,) = card["reversals"]
    assert (
        returned["ruled_on"],
        returned["ruling_number"],
        returned["full_name"],
        returned["amount_kopecks"],
    ) == (
        "2025-08-01",
        "13-5/2025",
        "Рябов Роман Романович",
        300000,
    )
    newest = card["payments"][0]  # newest first
    assert (newest["amount_kopecks"], newest["reversal"]) == (-192993, True)
    case = client.get(f"/api/v1/claims/cases/{case_id}", headers=lawyer).json()
    assert [x["from_debts_kopecks"] for x in case["reversals"]] == [192993]
    assert case["suit"] is None  # no lawsuit yet
    # a second ruling may return only what is still in place: 4 600.00 − 3 000.00 = 1 600.00
    more = client.post(reversals, json={**ruling, "amount_kopecks": 160001}, headers=lawyer)
    assert more.status_code == 422 and "1600.00 ₽" in more.text
