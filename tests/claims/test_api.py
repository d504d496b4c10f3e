"""The legal department's API on a real database through the app: debtors, a batch of applications (the
PDF kept with the case), the case's steps (a wrong one refused with what is allowed), an uploaded court
order, money under it, the debtor's card with the timeline, the report; a resident and an accountant are
refused."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import create_user
from meterhub.core.settings import Settings
from tests.claims.claims_data import city_with_co_owners

pytestmark = pytest.mark.db
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    tokens = {}
    with psycopg.connect(db_url) as conn:
        city_with_co_owners(conn)
    with psycopg.connect(db_url, autocommit=True) as conn:
        for name, role in (("lawyer1", Role.LAWYER), ("acc", Role.ACCOUNTANT), ("alice", Role.RESIDENT)):
            uid = create_user(conn, name, PASSWORD, role).id
            token = issue_bearer(conn, uid, timedelta(days=1), "t").token
            tokens[name] = {"Authorization": f"Bearer {token}"}
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789",
        db_pool_max_size=4,
    )
    with TestClient(create_app(settings)) as c:
        c.tokens = tokens
        yield c


def test_the_legal_department_through_the_api(client) -> None:
    lawyer = client.tokens["lawyer1"]
    for who in ("acc", "alice"):
        assert client.get("/api/v1/claims/cases", headers=client.tokens[who]).status_code == 403
    found = client.get("/api/v1/claims/debtors", params={"as_of": "2025-04-30"}, headers=lawyer).json()
    assert [d["account_no"] for d in found] == ["X1", "X3", "X4"]  # X2 has an instalment agreement

    batch = client.post(
        "/api/v1/claims/cases", json={"accounts": ["X1", "X4"], "as_of": "2025-04-30"}, headers=lawyer
    )
    assert batch.status_code == 201
    x1, x4 = batch.json()
    assert "case_id" in x1 and "no owner" in x4["error"]  # X4 has no owner anywhere: not prepared
    case_id = x1["case_id"]

    case = client.get(f"/api/v1/claims/cases/{case_id}", headers=lawyer).json()
    assert [(d["full_name"], d["share"], d["principal_kopecks"]) for d in case["debtors"]] == [
        ("Петрова Анна Сергеевна", "1/2", 175000),
        ("Петров Иван Олегович", "1/2", 175000),
    ]
    assert case["state_fee_kopecks"] == 200000
    assert [s["state"] for s in case["next_states"]] == ["filed", "closed_withdrawn"]
    [application] = case["timeline"][0]["documents"]
    pdf = client.get(f"/api/v1/claims/cases/{case_id}/documents/{application['document_id']}", headers=lawyer)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")

    steps = f"/api/v1/claims/cases/{case_id}/steps"
    wrong = client.post(steps, json={"state": "decision", "happened_on": "2025-05-05"}, headers=lawyer)
    assert wrong.status_code == 409 and "allowed: filed" in wrong.json()["detail"]
    assert (
        client.post(steps, json={"state": "filed", "happened_on": "2025-05-05"}, headers=lawyer).status_code
        == 201
    )
    order = {"state": "order_issued", "happened_on": "2025-05-20", "case_number": "2-9/2025"}
    assert client.post(steps, json=order, headers=lawyer).status_code == 201
    upload = client.post(
        f"/api/v1/claims/cases/{case_id}/documents",
        data={"kind": "court_order"},
        files={"file": ("prikaz.pdf", b"%PDF-1.4 scan", "application/pdf")},
        headers=lawyer,
    )
    assert upload.status_code == 201
    money = client.post(
        f"/api/v1/claims/cases/{case_id}/writ-receipts",
        json={"amount_kopecks": 100000, "received_on": "2025-06-15", "reference": "ПП 1", "debtor_no": 1},
        headers=lawyer,
    )
    assert money.status_code == 201 and money.json()["to_debts_kopecks"] == 100000

    card = client.get("/api/v1/claims/debtors/X1", params={"as_of": "2025-06-15"}, headers=lawyer).json()
    assert card["address"].startswith("г. Тест") and card["payments"][0]["source"] == "writ"
    [listed] = card["cases"]
    assert [s["state"] for s in listed["timeline"]] == ["prepared", "filed", "order_issued"]
    assert listed["timeline"][-1]["documents"][0]["file_name"] == "prikaz.pdf"
    # The money came from the mother (debtor 1) and paid her award only: her January (500.00 cold, 250.00
    # hot) first, then 250.00 of her February; her son's halves of January are still owed.
    january = {
        d["service"]: d["amount_kopecks"]
        for d in card["debts"]
        if d["period"] == "2025-01" and d["kind"] == "principal"
    }
    assert january == {"cold_water": 50000, "hot_water": 25000}

    report = client.get("/api/v1/claims/reports.xlsx", headers=lawyer)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(report.content))
    assert book["По домам"]["A2"].value == "CL" and book["По домам"]["E2"].value == 1000
