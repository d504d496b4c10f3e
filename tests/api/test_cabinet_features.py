"""What ЖКХ cabinets have: paying a receipt (its ГОСТ QR on screen, the УК's payment page), whether each
receipt is paid, how the amount to pay came about, password recovery by e-mail (through a real local SMTP
server, aiosmtpd), notifications, contacts, readable volumes and a rejected request's reason."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.app import create_app
from tests.api.world import PASSWORD, World

pytestmark = pytest.mark.db


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[int, Inbox]]:
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def cabinet(world: World, api_settings, smtp) -> Iterator[TestClient]:
    settings = api_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp[0],
            "mail_from": "noreply@uk-leninskaya.example",
            "public_url": "https://cabinet.example",
            "payment_url": "https://pay.example/uk?ls={account_no}&sum={amount}",
            "company_name": "ООО «УК Ленинская»",
            "company_phone": "+7 3812 00-00-00",
            "emergency_phone": "+7 3812 11-11-11",
        }
    )
    with TestClient(create_app(settings)) as c:
        yield c


def _decoded_body(raw: str) -> str:
    from email import message_from_string, policy

    return message_from_string(raw, policy=policy.default).get_body().get_content()


def test_password_recovery_by_a_one_time_link_sent_over_smtp(cabinet: TestClient, world: World, smtp) -> None:
    _, inbox = smtp
    root = world.auth("root")
    r = cabinet.post(
        "/api/v1/admin/users",
        json={"username": "frank", "password": PASSWORD, "role": "resident"},
        headers=root,
    )
    assert r.status_code == 201, r.text
    login = cabinet.post("/api/v1/auth/login", json={"username": "frank", "password": PASSWORD})
    csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
    before = len(inbox.messages)
    assert (
        cabinet.put("/api/v1/me/email", json={"email": "Frank@Example.ru"}, headers=csrf).status_code == 200
    )
    state = cabinet.get("/api/v1/me/email").json()
    assert (state["email"], state["confirmed"]) == ("frank@example.ru", False)
    cabinet.cookies.clear()
    # an unconfirmed address gets no reset link (docs/api.md, "E-mail addresses are confirmed")
    assert cabinet.post("/api/v1/auth/password-reset", json={"login": "frank"}).status_code == 202
    (recipients, raw), *rest = inbox.messages[before:]
    assert recipients == ["frank@example.ru"] and rest == []  # the confirmation letter only
    confirm = re.search(r"/cabinet/confirm-email\?token=([A-Za-z0-9_-]{40,})", _decoded_body(raw))
    assert cabinet.post("/api/v1/auth/email-confirm", json={"token": confirm.group(1)}).status_code == 200

    before = len(inbox.messages)
    unknown = cabinet.post("/api/v1/auth/password-reset", json={"login": "nobody@example.ru"})
    asked = cabinet.post("/api/v1/auth/password-reset", json={"login": "frank@example.ru"})
    assert unknown.status_code == asked.status_code == 202
    assert unknown.json() == asked.json()  # the answer does not tell whether the account exists
    assert len(inbox.messages) == before + 1
    recipients, raw = inbox.messages[-1]
    assert recipients == ["frank@example.ru"]
    assert "Subject: =?utf-8?" in raw or "Восстановление" in raw
    body = _decoded_body(raw)
    match = re.search(r"https://cabinet\.example/cabinet/recover\?token=([A-Za-z0-9_-]{40,})", body)
    assert match, body
    token = match.group(1)
    with psycopg.connect(world.url) as conn:  # only the digest is stored
        assert (
            conn.execute(
                "SELECT count(*) FROM api_password_resets WHERE token_digest = %s", (token,)
            ).fetchone()[0]
            == 0
        )

    weak = cabinet.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "password"}
    )
    assert weak.status_code == 422 and "распространённых" in weak.json()["detail"]
    ok = cabinet.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "Сосны-у-реки-7"}
    )
    assert ok.status_code == 204, ok.text
    again = cabinet.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "Другой-пароль-8"}
    )
    assert again.status_code == 400 and "ссылка недействительна" in again.json()["detail"]
    assert (
        cabinet.post("/api/v1/auth/login", json={"username": "frank", "password": PASSWORD}).status_code
        == 401
    )
    assert (
        cabinet.post(
            "/api/v1/auth/login", json={"username": "frank", "password": "Сосны-у-реки-7"}
        ).status_code
        == 200
    )
    notes = cabinet.get("/api/v1/me/notifications").json()["items"]
    assert any("восстановлен" in n["text_ru"] for n in notes)
    cabinet.cookies.clear()

    # an expired link is refused too
    cabinet.post("/api/v1/auth/password-reset", json={"login": "frank"})
    token2 = re.search(r"token=([A-Za-z0-9_-]{40,})", _decoded_body(inbox.messages[-1][1])).group(1)
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_password_resets SET expires_at = now() - interval '1 minute' WHERE used_at IS NULL"
        )
    late = cabinet.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token2, "new_password": "Сосны-у-реки-9"}
    )
    assert late.status_code == 400


def test_recovery_without_smtp_says_to_ask_the_company(client: TestClient) -> None:
    r = client.post("/api/v1/auth/password-reset", json={"login": "alice"})
    assert r.status_code == 404 and "управляющую компанию" in r.json()["detail"]


def test_paying_shows_the_receipts_qr_and_the_payment_page(cabinet: TestClient, world: World) -> None:
    from tests.billing.receipts.receipt_data import decode_page_qr

    alice = world.auth("alice")
    pay = cabinet.get("/api/v1/accounts/LS-1/payment", headers=alice)
    assert pay.status_code == 200, pay.text
    body = pay.json()
    assert body["period"] == "2026-01"
    # the payload on screen is what the printed receipt's QR code holds (PDFium renders, zxing decodes)
    pdf = cabinet.get("/api/v1/accounts/LS-1/receipts/2026-01.pdf", headers=alice).content
    assert body["qr_payload"].encode() == decode_page_qr(pdf)
    kopecks = re.search(r"\|Sum=(\d+)", body["qr_payload"]).group(1)
    assert body["to_pay"]["kopecks"] == int(kopecks)
    assert body["payment_url"] == f"https://pay.example/uk?ls=LS-1&sum={body['to_pay']['rubles']}"
    svg = cabinet.get(body["qr_svg_url"], headers=alice)
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and b"QR" in svg.content
    assert cabinet.get("/api/v1/accounts/LS-2/payment", headers=alice).status_code == 404


def test_each_receipt_says_whether_it_is_paid(client: TestClient, world: World) -> None:
    receipts = client.get("/api/v1/accounts/LS-1/receipts", headers=world.auth("alice")).json()
    january = next(r for r in receipts if r["period"] == "2026-01")
    # tests/api/world.py: LS-1 paid 1000.00 on 2026-02-05, after January ended
    assert january["paid_after"] == {"rubles": "1000.00", "kopecks": 100000}
    assert Decimal(january["to_pay"]["rubles"]) > Decimal("1000.00")
    assert (january["payment_state"], january["payment_state_name"]) == ("partly_paid", "оплачена частично")
    # LS-2 paid 4788.00, its whole January (world.py)
    bob = client.get("/api/v1/accounts/LS-2/receipts", headers=world.auth("bob")).json()
    jan2 = next(r for r in bob if r["period"] == "2026-01")
    assert jan2["to_pay"]["rubles"] == "4788.00" and jan2["payment_state"] == "paid"


def test_payment_state_rules() -> None:
    from datetime import date

    from meterhub.api.payment_state import paid_since, payment_state

    assert payment_state(0, 0) == "nothing_due" and payment_state(-500, 0) == "nothing_due"
    assert payment_state(100, 100) == "paid" and payment_state(100, 150) == "paid"
    assert payment_state(100, 1) == "partly_paid" and payment_state(100, 0) == "unpaid"
    paid = [(date(2026, 1, 31), 5), (date(2026, 2, 1), 7), (date(2026, 3, 2), 11)]
    assert paid_since(paid, date(2026, 2, 1)) == 18 and paid_since(paid, date(2026, 4, 1)) == 0


def test_the_balance_explains_the_amount_to_pay(client: TestClient, world: World) -> None:
    bal = client.get(
        "/api/v1/accounts/LS-1/balance", params={"period": "2026-02"}, headers=world.auth("alice")
    )
    if bal.status_code != 200:  # February has no charges in the world: January's balance then
        bal = client.get(
            "/api/v1/accounts/LS-1/balance", params={"period": "2026-01"}, headers=world.auth("alice")
        )
    b = bal.json()
    parts = {
        k: Decimal(b[k]["rubles"])
        for k in ("opening", "charged", "recalculated", "penalties", "paid", "total")
    }
    assert (
        parts["opening"] + parts["charged"] + parts["recalculated"] + parts["penalties"] - parts["paid"]
        == parts["total"]
    )
    services = b["services"]
    assert parts["charged"] == sum(Decimal(s["charged"]["rubles"]) for s in services)


def test_charge_volumes_are_shown_at_the_units_precision(client: TestClient, world: World) -> None:
    lines = client.get("/api/v1/accounts/LS-1/charges", headers=world.auth("alice")).json()["lines"]
    places = {"m3": 3, "kWh": 2, "m2": 2, "Gcal": 4}
    for ln in lines:
        exact = Decimal(ln["volume"])
        shown = exact.quantize(Decimal(1).scaleb(-places[ln["unit"]]), rounding=ROUND_HALF_UP).normalize()
        text = f"{shown:f}".replace(".", ",")
        whole, _, frac = text.partition(",")
        whole = f"{int(whole):,}".replace(",", " ")
        assert ln["volume_display"] == whole + (f",{frac}" if frac else ""), ln
        assert f": {ln['volume_display']} " in ln["explanation"]


def test_a_rejected_requests_reason_and_answers_reach_the_resident(client: TestClient, world: World) -> None:
    alice = world.auth("alice")
    rid = client.post(
        "/api/v1/accounts/LS-1/requests", data={"category": "other", "text": "Шумят соседи"}, headers=alice
    ).json()["id"]
    r = client.patch(
        f"/api/v1/requests/{rid}",
        json={"status": "rejected", "comment": "Не относится к управляющей компании: звоните участковому"},
        headers=world.auth("acc"),
    )
    assert r.status_code == 200, r.text
    listed = client.get("/api/v1/accounts/LS-1/requests", headers=alice).json()
    mine = next(x for x in listed if x["id"] == rid)
    assert mine["status"] == "rejected" and mine["answer"].startswith("Не относится")
    notes = client.get("/api/v1/me/notifications", headers=alice).json()
    assert notes["unread"] >= 1
    assert any(f"№ {rid}" in n["text_ru"] and "участковому" in n["text_ru"] for n in notes["items"])
    assert client.post("/api/v1/me/notifications/read", headers=alice).status_code == 204
    assert client.get("/api/v1/me/notifications", headers=alice).json()["unread"] == 0


def test_a_new_final_receipt_is_notified_once(client: TestClient, world: World) -> None:
    bob = world.auth("bob")
    assert [
        n
        for n in client.get("/api/v1/me/notifications", headers=bob).json()["items"]
        if n["kind"] == "receipt"
    ] == []
    with psycopg.connect(world.url, autocommit=True) as conn:  # January becomes final after bob linked LS-2
        conn.execute("UPDATE api_user_accounts SET linked_at = '2025-12-01' WHERE account_no = 'LS-2'")
        conn.execute(
            "UPDATE billing_periods SET status = 'closed', closed_at = '2026-02-03' "
            "WHERE building_id = 'B1' AND period = '2026-01'"
        )
    try:
        first = client.get("/api/v1/me/notifications", headers=bob).json()["items"]
        again = client.get("/api/v1/me/notifications", headers=bob).json()["items"]
    finally:
        with psycopg.connect(world.url, autocommit=True) as conn:
            conn.execute(
                "UPDATE billing_periods SET status = 'draft', closed_at = NULL "
                "WHERE building_id = 'B1' AND period = '2026-01'"
            )
    receipts = [n for n in again if n["kind"] == "receipt"]
    assert [n["text_ru"] for n in receipts] == ["Новая квитанция за 01.2026 по лицевому счёту LS-2"]
    assert receipts[0]["link"] == "/cabinet/receipts?account=LS-2"
    assert len([n for n in first if n["kind"] == "receipt"]) == 1


def test_contacts_are_public(cabinet: TestClient) -> None:
    c = cabinet.get("/api/v1/contacts").json()
    assert c["company_name"] == "ООО «УК Ленинская»" and c["emergency_phone"] == "+7 3812 11-11-11"
    assert "код" in c["access_howto_ru"] and c["password_recovery"] is True
