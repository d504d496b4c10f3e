"""Notifications by e-mail through a real local SMTP server (aiosmtpd): consent per kind in the profile,
letters for a new receipt, an answer to a request, an accepted reading, a user linked to one's account and
a staff revocation; an SMTP server that is down and comes back (nothing lost), a permanent refusal, two
senders at once (each letter once), opting out, and ``meterhub notify send``."""

from __future__ import annotations

import re
import socket
import threading
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.app import create_app
from meterhub.api.email_notices import collect_receipts, send_due
from meterhub.api.link_codes import account_link_code, recent_periods
from meterhub.api.notifications import notify
from tests.api.conftest import TEST_SECRET
from tests.api.mailserver import MailServer
from tests.api.world import PASSWORD, World

pytestmark = pytest.mark.db

ALL_KINDS = ["receipt", "request_answer", "account_linked", "security"]


@pytest.fixture(scope="module")
def settings(api_settings, mail: MailServer):
    return api_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mail.port,
            "mail_from": "noreply@uk-leninskaya.example",
            "public_url": "https://cabinet.example",
            "company_name": "ООО «УК Ленинская»",
            "emergency_phone": "+7 3812 11-11-11",
        }
    )


@pytest.fixture(scope="module")
def app(world: World, settings, mail: MailServer):
    with TestClient(create_app(settings)) as c:
        c.app.state.test_mail = mail
        yield c.app


def mail_of(app) -> MailServer:
    return app.state.test_mail


def follow_confirmation_link(app, mail: MailServer, email: str, since: int) -> None:
    """Read the confirmation letter to ``email`` off the SMTP server and follow its link."""
    for i in range(len(mail.letters) - 1, since - 1, -1):
        to, subject, text = mail.read(i)
        if to == [email] and subject == "Подтверждение адреса электронной почты":
            token = re.search(r"/cabinet/confirm-email\?token=([A-Za-z0-9_-]{40,})", text).group(1)
            r = TestClient(app).post("/api/v1/auth/email-confirm", json={"token": token})
            assert r.status_code == 200, r.text
            return
    raise AssertionError(f"no confirmation letter to {email}")


def _browser(app, who: str) -> tuple[TestClient, dict[str, str]]:
    """A cookie session of ``who`` (the cabinet's way) and its CSRF header."""
    c = TestClient(app)
    r = c.post("/api/v1/auth/login", json={"username": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def _send(world: World, settings, at: datetime | None = None, **kw):
    moment = at or datetime.now(UTC)
    return send_due(lambda: psycopg.connect(world.url, autocommit=True), settings, now=lambda: moment, **kw)


def _outbox(world: World, where: str = "true", params: tuple = ()) -> list[tuple]:
    with psycopg.connect(world.url) as conn:
        return conn.execute(
            "SELECT id, recipient, status, attempts, last_error, next_attempt_at, kind, subject"
            f" FROM api_email_outbox WHERE {where} ORDER BY id",
            params,
        ).fetchall()


def _opt_in(app, who: str, email: str, kinds: list[str]) -> dict:
    """Set and confirm ``email`` (following the link of the letter) and choose ``kinds``."""
    c, csrf = _browser(app, who)
    before = len(mail_of(app).letters)
    r = c.put("/api/v1/me/email", json={"email": email}, headers=csrf)
    assert r.status_code == 200, r.text
    if not r.json()["confirmed"]:
        follow_confirmation_link(app, mail_of(app), email, before)
    r = c.put("/api/v1/me/email-notifications", json={"kinds": kinds}, headers=csrf)
    assert r.status_code == 200, r.text
    return r.json()


def test_consent_is_chosen_per_kind_in_the_profile(app, world: World) -> None:
    c, csrf = _browser(app, "carol")
    start = c.get("/api/v1/me/email-notifications").json()
    assert start["email"] is None and start["mail_configured"] is True
    assert [(k["kind"], k["enabled"]) for k in start["kinds"]] == [(k, False) for k in ALL_KINDS]
    assert {k["name"] for k in start["kinds"]} >= {"Новая квитанция", "Ответы на заявки и приём показаний"}
    no_email = c.put("/api/v1/me/email-notifications", json={"kinds": ["receipt"]}, headers=csrf)
    assert no_email.status_code == 422 and "сначала укажите адрес" in no_email.json()["detail"]
    # the CSRF header is required like on every cookie-authenticated change
    assert c.put("/api/v1/me/email-notifications", json={"kinds": []}).status_code == 403
    assert c.put("/api/v1/me/email", json={"email": "carol@example.ru"}, headers=csrf).status_code == 200
    unknown = c.put("/api/v1/me/email-notifications", json={"kinds": ["sms"]}, headers=csrf)
    assert unknown.status_code == 422
    chosen = c.put("/api/v1/me/email-notifications", json={"kinds": ["receipt", "security"]}, headers=csrf)
    assert chosen.status_code == 200
    assert {k["kind"] for k in chosen.json()["kinds"] if k["enabled"]} == {"receipt", "security"}
    assert c.get("/api/v1/me/email-notifications").json() == chosen.json()
    off = c.put("/api/v1/me/email-notifications", json={"kinds": []}, headers=csrf).json()
    assert not any(k["enabled"] for k in off["kinds"])


def test_each_kind_of_notice_arrives_as_a_letter(app, world: World, settings, mail: MailServer) -> None:
    _opt_in(app, "alice", "alice@example.ru", ALL_KINDS)
    _opt_in(app, "dave", "dave@example.ru", ["security"])
    # bob has an e-mail but wants no letters: his notices stay in the cabinet
    bob, bob_csrf = _browser(app, "bob")
    assert bob.put("/api/v1/me/email", json={"email": "bob@example.ru"}, headers=bob_csrf).status_code == 200
    before = len(mail.letters)

    # a receipt: January 2026 of B1 becomes final after alice linked LS-1 (and bob LS-2)
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_user_accounts SET linked_at = '2025-12-01' WHERE account_no IN ('LS-1', 'LS-2')"
        )
        conn.execute(
            "UPDATE billing_periods SET status = 'closed', closed_at = '2026-02-03' "
            "WHERE building_id = 'B1' AND period = '2026-01'"
        )
        try:
            assert collect_receipts(conn) == 1  # alice only: bob does not want receipts by e-mail
            assert collect_receipts(conn) == 0
        finally:
            conn.execute(
                "UPDATE billing_periods SET status = 'draft', closed_at = NULL "
                "WHERE building_id = 'B1' AND period = '2026-01'"
            )
    # an answer to her request, with the reason
    rejected = TestClient(app).patch(
        f"/api/v1/requests/{world.requests['alice']}",
        json={"status": "rejected", "comment": "Кран в зоне ответственности собственника"},
        headers=world.auth("acc"),
    )
    assert rejected.status_code == 200, rejected.text
    # a reading accepted
    reading = TestClient(app).post(
        "/api/v1/accounts/LS-1/meters/W-1/readings",
        json={"values": {"T": "18.2"}},
        headers=world.auth("alice"),
    )
    assert reading.status_code == 201, reading.text
    # dave links alice's account with this month's receipt code: alice is told
    code = account_link_code("LS-1", TEST_SECRET, recent_periods(date.today(), 0)[0])
    linked = TestClient(app).post(
        "/api/v1/me/accounts", json={"account_no": "LS-1", "code": code}, headers=world.auth("dave")
    )
    assert linked.status_code == 200, linked.text
    # staff revoke dave's link with a reason: dave is told
    acc, acc_csrf = _browser(app, "acc")
    gone = acc.request(
        "DELETE",
        f"/api/v1/accounts/LS-1/links/{world.users['dave']}",
        json={"reason": "заявление собственника"},
        headers=acc_csrf,
    )
    assert gone.status_code == 204, gone.text

    assert len(mail.letters) == before  # nothing is sent from the request itself: the outbox holds it
    result = _send(world, settings)
    assert (result.sent, result.retry, result.failed, result.unreachable) == (5, 0, 0, "")
    letters = [mail.read(i) for i in range(before, len(mail.letters))]
    subjects = Counter(subject for _, subject, _ in letters)
    assert subjects == Counter(
        {
            "Новая квитанция — лицевой счёт LS-1": 1,
            "Ответ управляющей компании — лицевой счёт LS-1": 2,  # the request and the reading
            "Подключение к лицевому счёту — лицевой счёт LS-1": 1,
            "Безопасность личного кабинета — лицевой счёт LS-1": 1,
        }
    )
    texts = {text for _, _, text in letters}
    receipt = next(t for to, s, t in letters if s.startswith("Новая квитанция"))
    assert "Новая квитанция за 01.2026 по лицевому счёту LS-1" in receipt
    assert "https://cabinet.example/cabinet/receipts?account=LS-1" in receipt
    assert "https://cabinet.example/cabinet/profile" in receipt  # where to turn them off
    assert receipt.startswith("Здравствуйте, alice!") and "ООО «УК Ленинская»" in receipt
    assert "Аварийно-диспетчерская служба (круглосуточно): +7 3812 11-11-11" in receipt
    request_no = world.requests["alice"]
    assert any(
        f"Заявка № {request_no}" in t and "Кран в зоне ответственности собственника" in t for t in texts
    )
    assert any("(показание 18,2)" in t and "приняты" in t for t in texts)
    linked_letter = next(t for to, s, t in letters if s.startswith("Подключение"))
    assert "подключён пользователь dave" in linked_letter
    to_dave = [(to, t) for to, s, t in letters if s.startswith("Безопасность")]
    assert to_dave[0][0] == ["dave@example.ru"]
    assert "отключила вас от лицевого счёта LS-1. Причина: заявление собственника." in to_dave[0][1]
    recipients = Counter(to[0] for to, _, _ in letters)
    assert recipients == Counter({"alice@example.ru": 4, "dave@example.ru": 1})  # nothing for bob
    assert {r[2] for r in _outbox(world)} == {"sent"}
    # sending again sends nothing: each letter once
    again = _send(world, settings)
    assert (again.sent, again.retry) == (0, 0) and len(mail.letters) == before + 5


def _queue(world: World, user: str, texts: list[str]) -> None:
    with psycopg.connect(world.url, autocommit=True) as conn:
        for text in texts:
            notify(conn, [world.users[user]], "security", text, subject_key=f"test:{text}")


def test_a_server_that_is_down_loses_nothing_and_letters_go_when_it_is_back(
    app, world: World, settings, mail: MailServer
) -> None:
    _opt_in(app, "carol", "carol@example.ru", ["security"])
    _queue(world, "carol", ["первое письмо", "второе письмо", "третье письмо"])
    waiting = _outbox(world, "status = 'pending'")
    assert len(waiting) == 3
    before = len(mail.letters)
    t0 = datetime.now(UTC)
    mail.stop()
    try:
        down = _send(world, settings, t0)
        assert down.unreachable and "ConnectionRefused" in down.unreachable
        # the run stopped at the first letter; that one waits a minute, the others were not tried
        assert (down.sent, down.retry, down.failed) == (0, 1, 0)
        rows = _outbox(world, "status = 'pending'")
        assert [r[3] for r in rows] == [1, 0, 0]
        assert "ConnectionRefused" in rows[0][4]
        assert rows[0][5] == t0 + timedelta(minutes=1)
        # the next run a little later: the second letter is tried (the first one is not due yet)
        second = _send(world, settings, t0 + timedelta(seconds=30))
        assert (second.sent, second.retry) == (0, 1)
        assert [r[3] for r in _outbox(world, "status = 'pending'")] == [1, 1, 0]
    finally:
        mail.start()
    back = _send(world, settings, t0 + timedelta(minutes=5))
    assert (back.sent, back.retry, back.unreachable) == (3, 0, "")
    assert len(mail.letters) == before + 3
    texts = sorted(mail.read(i)[2].split("\n")[2] for i in range(before, before + 3))
    assert texts == ["второе письмо", "первое письмо", "третье письмо"]
    rows = [r for r in _outbox(world, "recipient = 'carol@example.ru'") if r[2] == "sent"]
    assert sorted(r[3] for r in rows) == [1, 2, 2]  # attempts, the successful one included


def test_permanent_refusals_and_too_many_attempts_mark_letters_failed(
    app, world: World, settings, mail: MailServer
) -> None:
    _opt_in(app, "carol", "carol@example.ru", ["security"])
    mail.refuse = {"carol@example.ru"}
    try:
        _queue(world, "carol", ["ящика нет"])
        refused = _send(world, settings)
        assert (refused.sent, refused.failed, refused.unreachable) == (0, 1, "")
        row = _outbox(world, "status = 'failed'")[-1]
        assert row[3] == 1 and "550" in row[4]
    finally:
        mail.refuse = set()
    # a transient error on the last allowed attempt gives up too
    _queue(world, "carol", ["последняя попытка"])
    port = settings.smtp_port
    closed = settings.model_copy(update={"smtp_port": _free_port()})
    assert closed.smtp_port != port
    first = _send(world, closed, max_attempts=2)
    assert first.retry == 1
    final = _send(world, closed, datetime.now(UTC) + timedelta(minutes=2), max_attempts=2)
    assert (final.retry, final.failed) == (0, 1)
    assert _outbox(world, "status = 'failed'")[-1][3] == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_senders_at_once_send_every_letter_exactly_once(
    app, world: World, settings, mail: MailServer
) -> None:
    _opt_in(app, "carol", "carol@example.ru", ["security"])
    texts = [f"письмо № {i}" for i in range(24)]
    _queue(world, "carol", texts)
    before = len(mail.letters)
    mail.delay = 0.01
    mail.sessions = set()
    mail.wait_for_sessions = 2  # the first letter waits until the second sender is sending too
    results = []
    barrier = threading.Barrier(2)

    def sender() -> None:
        barrier.wait()
        results.append(_send(world, settings))

    try:
        threads = [threading.Thread(target=sender) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        mail.delay = 0
        mail.wait_for_sessions = 0
    got = Counter(mail.read(i)[2].split("\n")[2] for i in range(before, len(mail.letters)))
    assert got == Counter(texts)  # every letter, none twice
    assert sum(r.sent for r in results) == 24
    assert all(r.sent > 0 for r in results), [r.sent for r in results]  # both really worked


def test_opting_out_cancels_waiting_letters(app, world: World, settings, mail: MailServer) -> None:
    _opt_in(app, "carol", "carol@example.ru", ["security"])
    _queue(world, "carol", ["не отправлять"])
    _opt_in(app, "carol", "carol@example.ru", ["receipt"])
    row = _outbox(world, "subject LIKE 'Безопасность%%' AND status <> 'sent'")[-1]
    assert row[2] == "cancelled"
    before = len(mail.letters)
    assert _send(world, settings).sent == 0 and len(mail.letters) == before


def test_the_cli_command_sends_what_is_due(
    app, world: World, settings, mail: MailServer, monkeypatch
) -> None:
    from typer.testing import CliRunner

    from meterhub.cli.main import app as cli
    from meterhub.core.settings import get_settings

    _opt_in(app, "carol", "carol@example.ru", ["security"])
    _queue(world, "carol", ["из командной строки"])
    for key, value in {
        "METERHUB_DATABASE_URL": world.url,
        "METERHUB_SMTP_HOST": "127.0.0.1",
        "METERHUB_SMTP_PORT": str(mail.port),
        "METERHUB_PUBLIC_URL": "https://cabinet.example",
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    try:
        before = len(mail.letters)
        sent = CliRunner().invoke(cli, ["notify", "send"])
        assert sent.exit_code == 0, sent.output
        assert "sent: 1;" in sent.output
        assert mail.read(before)[2].split("\n")[2] == "из командной строки"
        status = CliRunner().invoke(cli, ["notify", "status"])
        assert status.exit_code == 0 and "pending: 0" in status.output
    finally:
        get_settings.cache_clear()


def test_link_revocation_is_for_accountants_and_admins_needs_csrf_and_is_audited(app, world: World) -> None:
    client = TestClient(app)
    with psycopg.connect(world.url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO api_user_accounts (user_id, account_no, linked_by)"
            " VALUES (%s, 'LS-9', 'receipt_code') ON CONFLICT DO NOTHING",
            (world.users["dave"],),
        )
    dave = world.users["dave"]
    # the access matrix of docs/api.md: accountant and admin; every other role 403 (carol's own LS-9 too);
    # a resident asking about another's account gets 404 like on every account route
    for who in ("alice", "carol", "eng", "clerk", "oper", "subco", "lawyer1"):
        for method, url in (
            ("GET", "/api/v1/accounts/LS-9/links"),
            ("GET", "/api/v1/accounts/LS-9/link-history"),
            ("DELETE", f"/api/v1/accounts/LS-9/links/{dave}"),
            ("POST", "/api/v1/accounts/LS-9/link-codes/revoke"),
        ):
            expected = 404 if who == "alice" else 403
            assert client.request(method, url, headers=world.auth(who)).status_code == expected, (who, method)
    assert client.get("/api/v1/accounts/LS-9/link-history", headers=world.auth("root")).status_code == 200
    # a cookie session must send the CSRF header: without it nothing changes
    acc, csrf = _browser(app, "acc")
    assert (
        acc.request("DELETE", f"/api/v1/accounts/LS-9/links/{dave}", json={"reason": "x"}).status_code == 403
    )
    assert (
        acc.delete(f"/api/v1/accounts/LS-9/links/{dave}", headers={"X-CSRF-Token": "forged"}).status_code
        == 403
    )
    links = acc.get("/api/v1/accounts/LS-9/links").json()
    assert "dave" in {x["username"] for x in links}
    assert acc.get("/api/v1/accounts/LS-9/link-history").json() == []
    # someone not linked: 404 and no audit row
    missing = acc.delete(f"/api/v1/accounts/LS-9/links/{world.users['bob']}", headers=csrf)
    assert missing.status_code == 404
    assert acc.get("/api/v1/accounts/LS-9/link-history").json() == []
    ok = acc.request(
        "DELETE",
        f"/api/v1/accounts/LS-9/links/{dave}",
        json={"reason": "  ошибочно   подключён "},
        headers=csrf,
    )
    assert ok.status_code == 204
    history = acc.get("/api/v1/accounts/LS-9/link-history").json()
    assert [(e["action"], e["username"], e["actor_name"], e["actor_role"]) for e in history] == [
        ("codes_revoked", "", "acc", "accountant"),
        ("unlinked", "dave", "acc", "accountant"),
    ]
    assert (
        history[1]["reason"] == "ошибочно подключён" and history[1]["action_name"] == "отключён сотрудником"
    )
    told = client.get("/api/v1/me/notifications", headers=world.auth("dave")).json()["items"]
    assert any(
        n["kind"] == "security" and "лицевого счёта LS-9. Причина: ошибочно подключён." in n["text_ru"]
        for n in told
    )
    # an admin's link through the admin API is audited too
    relinked = client.post(
        f"/api/v1/admin/users/{dave}/accounts", json={"account_no": "LS-9"}, headers=world.auth("root")
    )
    assert relinked.status_code in (200, 201)
    latest = acc.get("/api/v1/accounts/LS-9/link-history").json()[0]
    assert (latest["action"], latest["username"], latest["actor_name"]) == ("linked_by_staff", "dave", "root")
    # and its unlink: audited, and dave is told
    unlinked = client.delete(f"/api/v1/admin/users/{dave}/accounts/LS-9", headers=world.auth("root"))
    assert unlinked.status_code == 200, unlinked.text
    latest = acc.get("/api/v1/accounts/LS-9/link-history").json()[0]
    assert (latest["action"], latest["username"], latest["actor_name"]) == ("unlinked", "dave", "root")
    told = client.get("/api/v1/me/notifications", headers=world.auth("dave")).json()["items"]
    assert told[0]["text_ru"].startswith("Администратор отключил вас от лицевого счёта LS-9.")


def test_the_service_desks_answer_and_resolution_reach_the_resident(
    app, world: World, settings, mail: MailServer
) -> None:
    """A request filed in the cabinet and answered by the operator in the service desk (not by the
    accountant's status change): the account's users are told in the cabinet and, if they asked, by e-mail."""
    _opt_in(app, "alice", "alice@example.ru", ["request_answer"])
    client = TestClient(app)
    filed = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "plumbing", "text": "Капает из крана в ванной"},
        headers=world.auth("alice"),
    )
    assert filed.status_code == 201, filed.text
    rid = filed.json()["id"]
    desk = "/api/v1/servicedesk/requests"
    answered = client.post(
        f"{desk}/{rid}/answer", json={"text": "Мастер придёт завтра"}, headers=world.auth("oper")
    )
    assert answered.status_code == 200, answered.text
    done = client.post(
        f"{desk}/{rid}/resolve", json={"text": "Прокладка заменена"}, headers=world.auth("oper")
    )
    assert done.status_code == 200, done.text
    notes = [
        n["text_ru"]
        for n in client.get("/api/v1/me/notifications", headers=world.auth("alice")).json()["items"]
    ]
    assert f"Заявка № {rid} — ответ: Мастер придёт завтра" in notes
    assert f"Заявка № {rid} — выполнена: Прокладка заменена" in notes
    before = len(mail.letters)
    _send(world, settings)
    letters = [mail.read(i) for i in range(before, len(mail.letters))]
    texts = sorted(text.split("\n")[2] for to, _, text in letters if to == ["alice@example.ru"])
    assert texts == [
        f"Заявка № {rid} — выполнена: Прокладка заменена",
        f"Заявка № {rid} — ответ: Мастер придёт завтра",
    ]
