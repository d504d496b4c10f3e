"""Receipts through the API: the list by period, the period PDF and the debt receipt PDF."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World

pytestmark = pytest.mark.db


def test_list_receipts_by_period(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1/receipts", headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    (jan,) = r.json()
    # January charges of LS-1 = 4045.00 (tests/billing/test_close.py); nothing paid in January
    assert jan["period"] == "2026-01" and jan["status"] == "draft"
    assert jan["charged"] == {"rubles": "4045.00", "kopecks": 404500}
    assert jan["pdf_url"] == "/api/v1/accounts/LS-1/receipts/2026-01.pdf"
    # due day from billing's penalty tables: day 10 of the next month (ЖК РФ ст. 155), as in the details
    assert jan["due_date"] == "2026-02-10"
    details = client.get("/api/v1/accounts/LS-1", headers=world.auth("alice")).json()
    assert details["last_period"]["due_date"] == jan["due_date"]


def test_period_pdf_downloads(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1/receipts/2026-01.pdf", headers=world.auth("alice"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert 'filename="receipt-LS-1-2026-01.pdf"' in r.headers["content-disposition"]


def test_pdf_of_a_period_without_receipt_is_404_listing_the_receipts(
    client: TestClient, world: World
) -> None:
    r = client.get("/api/v1/accounts/LS-1/receipts/2025-12.pdf", headers=world.auth("alice"))
    assert r.status_code == 404
    assert "2026-01" in r.json()["detail"]


def test_bad_period_in_the_pdf_path_is_422(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/accounts/LS-1/receipts/2026-13.pdf", headers=world.auth("alice"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "period"]


def test_debt_receipt_pdf(client: TestClient, world: World) -> None:
    r = client.get(
        "/api/v1/accounts/LS-1/receipts/debt.pdf", params={"as_of": "2026-03-01"}, headers=world.auth("alice")
    )
    # LS-1 owes 4045.00 − 1000.00 = 3045.00 on 2026-03-01 (January was due 2026-02-10)
    assert r.status_code == 200, r.text
    assert r.content.startswith(b"%PDF-")
    assert (
        client.get(
            "/api/v1/accounts/LS-1/receipts/debt.pdf", params={"as_of": "March"}, headers=world.auth("alice")
        ).status_code
        == 422
    )


def test_receipts_of_others_are_404(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/accounts/LS-2/receipts", headers=world.auth("alice")).status_code == 404
    assert (
        client.get("/api/v1/accounts/LS-2/receipts/2026-01.pdf", headers=world.auth("alice")).status_code
        == 404
    )
    assert client.get("/api/v1/accounts/LS-2/receipts", headers=world.auth("acc")).status_code == 200
