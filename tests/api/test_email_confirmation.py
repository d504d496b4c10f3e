"""E-mail addresses confirmed by a link, through the HTTP API and a real local SMTP server (aiosmtpd):
the letter is read off the server and its link followed. A new address, a wrong, expired or reused link,
the resend limit, changing a confirmed address (the old one in force until then, and told), password
recovery refused to an unconfirmed address, notification letters held until the confirmation, the audit,
and the upgrade of a database whose addresses were never confirmed (migration 0271)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from fastapi.testclient import TestClient

from meterhub.api.app import create_app
from meterhub.api.email_notices import send_due, set_email_kinds
from meterhub.api.notifications import notify
from meterhub.api.sessions import digest
from tests.api.mailserver import MailServer
from tests.api.world import PASSWORD, World

pytestmark = [pytest.mark.db, pytest.mark.pg_versions]  # also on CI's PostgreSQL 15 (docs/testing.md)

LINK_RE = re.compile(r"https://cabinet\.example/cabinet/confirm-email\?token=([A-Za-z0-9_-]{40,})")
RESET_RE = re.compile(r"/cabinet/recover\?token=([A-Za-z0-9_-]{40,})")


@pytest.fixture(scope="module")
def settings(api_settings, mail: MailServer):
    return api_settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": mail.port,
            "mail_from": "noreply@uk-leninskaya.example",
            "public_url": "https://cabinet.example",
            "company_name": "ООО «УК Ленинская»",
        }
    )


@pytest.fixture(scope="module")
def app(world: World, settings):
    with TestClient(create_app(settings)) as c:
        yield c.app


def _browser(app, who: str) -> tuple[TestClient, dict[str, str]]:
    c = TestClient(app)
    r = c.post("/api/v1/auth/login", json={"username": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c, {"X-CSRF-Token": r.json()["csrf_token"]}


def _letters_to(mail: MailServer, address: str, since: int = 0) -> list[tuple[str, str]]:
    """(subject, text) of the letters to ``address`` received since index ``since``."""
    out = []
    for i in range(since, len(mail.letters)):
        to, subject, text = mail.read(i)
        if to == [address]:
            out.append((subject, text))
    return out


def _link_token(mail: MailServer, address: str, since: int) -> str:
    letters = [
        t for s, t in _letters_to(mail, address, since) if s == "Подтверждение адреса электронной почты"
    ]
    assert len(letters) == 1, letters
    match = LINK_RE.search(letters[0])
    assert match, letters[0]
    return match.group(1)


def _confirm(app, token: str) -> tuple[int, dict]:
    c = TestClient(app)  # public: no session, as when the link is opened in another browser
    r = c.post("/api/v1/auth/email-confirm", json={"token": token})
    return r.status_code, r.json() if r.content else {}


def _reset_letters(app, mail: MailServer, login: str, address: str) -> int:
    before = len(mail.letters)
    r = TestClient(app).post("/api/v1/auth/password-reset", json={"login": login})
    assert r.status_code == 202, r.text
    return sum(1 for _, text in _letters_to(mail, address, before) if RESET_RE.search(text))


def test_a_new_address_is_confirmed_once_by_the_link_in_the_letter(app, world: World, mail) -> None:
    c, csrf = _browser(app, "alice")
    before = len(mail.letters)
    r = c.put("/api/v1/me/email", json={"email": "Alice@Example.ru"}, headers=csrf)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "email": "alice@example.ru",
        "confirmed": False,
        "pending_email": None,
        "mail_configured": True,
    }
    token = _link_token(mail, "alice@example.ru", before)
    text = _letters_to(mail, "alice@example.ru", before)[0][1]
    assert "логин «alice»" in text and "24 ч" in text
    with psycopg.connect(world.url) as conn:  # only the digest is stored
        stored = conn.execute(
            "SELECT token_digest FROM api_email_confirmations WHERE user_id = %s", (world.users["alice"],)
        ).fetchall()
    assert stored == [(digest(token),)]

    # unconfirmed: password recovery sends nothing, by the address or by the login
    assert _reset_letters(app, mail, "alice@example.ru", "alice@example.ru") == 0
    assert _reset_letters(app, mail, "alice", "alice@example.ru") == 0

    assert _confirm(app, "A" * 43)[0] == 400  # a wrong token
    status, body = _confirm(app, token)
    assert (status, body) == (200, {"email": "alice@example.ru"})
    again, detail = _confirm(app, token)
    assert again == 400 and "ссылка недействительна" in detail["detail"]
    state = c.get("/api/v1/me/email").json()
    assert state["confirmed"] is True and state["pending_email"] is None
    assert _reset_letters(app, mail, "alice@example.ru", "alice@example.ru") == 1

    # the audit, for admins only
    path = f"/api/v1/admin/users/{world.users['alice']}/email-history"
    assert TestClient(app).get(path, headers=world.auth("alice")).status_code == 403
    history = TestClient(app).get(path, headers=world.auth("root")).json()
    assert [(e["action"], e["old_email"], e["new_email"]) for e in history] == [
        ("confirmed", None, "alice@example.ru"),
        ("set", None, "alice@example.ru"),
    ]
    assert history[0]["actor_name"] == "по ссылке из письма"


def test_an_expired_link_is_refused_and_a_new_letter_spends_the_old_link(app, world: World, mail) -> None:
    c, csrf = _browser(app, "bob")
    before = len(mail.letters)
    assert c.put("/api/v1/me/email", json={"email": "bob@example.ru"}, headers=csrf).status_code == 200
    first = _link_token(mail, "bob@example.ru", before)
    with psycopg.connect(world.url) as conn:  # 24 h have passed
        conn.execute(
            "UPDATE api_email_confirmations SET created_at = created_at - interval '25 hours',"
            " expires_at = now() - interval '1 hour' WHERE token_digest = %s",
            (digest(first),),
        )
    assert _confirm(app, first)[0] == 400
    assert c.get("/api/v1/me/email").json()["confirmed"] is False

    before = len(mail.letters)
    r = c.post("/api/v1/me/email/confirmation", headers=csrf)
    assert r.status_code == 200, r.text
    second = _link_token(mail, "bob@example.ru", before)
    before = len(mail.letters)
    assert c.post("/api/v1/me/email/confirmation", headers=csrf).status_code == 200
    third = _link_token(mail, "bob@example.ru", before)
    assert _confirm(app, second)[0] == 400  # spent by the newer letter
    assert _confirm(app, third)[0] == 200
    # confirmed: nothing left to confirm
    assert c.post("/api/v1/me/email/confirmation", headers=csrf).status_code == 409


def test_confirmation_letters_are_limited_to_three_an_hour(app, world: World, mail) -> None:
    c, csrf = _browser(app, "carol")
    assert c.put("/api/v1/me/email", json={"email": "carol@example.ru"}, headers=csrf).status_code == 200
    assert c.post("/api/v1/me/email/confirmation", headers=csrf).status_code == 200
    assert c.post("/api/v1/me/email/confirmation", headers=csrf).status_code == 200
    before = len(mail.letters)
    refused = c.post("/api/v1/me/email/confirmation", headers=csrf)
    assert refused.status_code == 429 and "слишком много писем" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    # another address is a letter too: refused, and the address is not changed
    other = c.put("/api/v1/me/email", json={"email": "carol2@example.ru"}, headers=csrf)
    assert other.status_code == 429
    assert c.get("/api/v1/me/email").json()["email"] == "carol@example.ru"
    assert len(mail.letters) == before
    # the resend needs the CSRF header of the cookie session
    assert c.post("/api/v1/me/email/confirmation").status_code == 403


def test_changing_a_confirmed_address_keeps_the_old_one_until_the_new_is_confirmed(
    app, world: World, mail
) -> None:
    c, csrf = _browser(app, "alice")  # confirmed alice@example.ru in the first test
    assert c.get("/api/v1/me/email").json()["confirmed"] is True
    before = len(mail.letters)
    r = c.put("/api/v1/me/email", json={"email": "alice.new@example.ru"}, headers=csrf)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "email": "alice@example.ru",
        "confirmed": True,
        "pending_email": "alice.new@example.ru",
        "mail_configured": True,
    }
    notice = _letters_to(mail, "alice@example.ru", before)
    assert [s for s, _ in notice] == ["Изменение адреса электронной почты в личном кабинете"]
    assert "alice.new@example.ru" in notice[0][1] and "смените пароль" in notice[0][1]
    token = _link_token(mail, "alice.new@example.ru", before)

    # until the confirmation the old address is in force: recovery goes there, not to the new one
    assert _reset_letters(app, mail, "alice.new@example.ru", "alice.new@example.ru") == 0
    assert _reset_letters(app, mail, "alice", "alice@example.ru") == 1

    assert _confirm(app, token) == (200, {"email": "alice.new@example.ru"})
    state = c.get("/api/v1/me/email").json()
    assert (state["email"], state["confirmed"], state["pending_email"]) == (
        "alice.new@example.ru",
        True,
        None,
    )
    assert _reset_letters(app, mail, "alice.new@example.ru", "alice.new@example.ru") == 1
    assert _reset_letters(app, mail, "alice@example.ru", "alice@example.ru") == 0
    history = (
        TestClient(app)
        .get(f"/api/v1/admin/users/{world.users['alice']}/email-history", headers=world.auth("root"))
        .json()
    )
    assert [(e["action"], e["old_email"], e["new_email"]) for e in history[:2]] == [
        ("confirmed", "alice@example.ru", "alice.new@example.ru"),
        ("change_requested", "alice@example.ru", "alice.new@example.ru"),
    ]
    assert history[1]["actor_name"] == "alice"

    # another user cannot take the address, pending or confirmed
    d, dcsrf = _browser(app, "dave")
    taken = d.put("/api/v1/me/email", json={"email": "alice.new@example.ru"}, headers=dcsrf)
    assert taken.status_code == 409


def _cli_status(world: World, mail: MailServer, monkeypatch) -> str:
    from typer.testing import CliRunner

    from meterhub.cli.main import app as cli
    from meterhub.core.settings import get_settings

    monkeypatch.setenv("METERHUB_DATABASE_URL", world.url)
    monkeypatch.setenv("METERHUB_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("METERHUB_SMTP_PORT", str(mail.port))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["notify", "status"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return result.output


def test_notification_letters_wait_for_the_confirmation(
    app, world: World, settings, mail, monkeypatch
) -> None:
    c, csrf = _browser(app, "dave")
    before = len(mail.letters)
    assert c.put("/api/v1/me/email", json={"email": "dave@example.ru"}, headers=csrf).status_code == 200
    token = _link_token(mail, "dave@example.ru", before)
    assert (
        c.put("/api/v1/me/email-notifications", json={"kinds": ["security"]}, headers=csrf).status_code == 200
    )
    with psycopg.connect(world.url) as conn:
        notify(
            conn, [world.users["dave"]], "security", "Проверка: письмо ждёт подтверждения", subject_key="h8"
        )
        conn.commit()

    def send():
        return send_due(
            lambda: psycopg.connect(world.url, autocommit=True), settings, now=lambda: datetime.now(UTC)
        )

    before = len(mail.letters)
    held = send()
    assert (held.sent, held.cancelled) == (0, 0)
    assert len(mail.letters) == before
    with psycopg.connect(world.url) as conn:
        assert conn.execute(
            "SELECT status FROM api_email_outbox WHERE user_id = %s", (world.users["dave"],)
        ).fetchall() == [("pending",)]

    assert "pending: 1 " in _cli_status(world, mail, monkeypatch)
    assert "due now: 0; held until the address is confirmed: 1" in _cli_status(world, mail, monkeypatch)

    assert _confirm(app, token)[0] == 200
    sent = send()
    assert sent.sent == 1
    letters = _letters_to(mail, "dave@example.ru", before)
    assert len(letters) == 1 and "письмо ждёт подтверждения" in letters[0][1]

    # a cleared address: a held letter is cancelled, not kept for a future address
    with psycopg.connect(world.url) as conn:
        set_email_kinds(conn, world.users["dave"], ["security"])
        notify(conn, [world.users["dave"]], "security", "Второе уведомление", subject_key="h8-2")
        conn.commit()
    assert c.put("/api/v1/me/email", json={"email": None}, headers=csrf).status_code == 200
    cleared = send()
    assert (cleared.sent, cleared.cancelled) == (0, 1)
    # the confirmed address that was cleared was told
    assert [s for s, _ in _letters_to(mail, "dave@example.ru", before)][-1] == (
        "Изменение адреса электронной почты в личном кабинете"
    )


def test_the_change_notice_to_the_old_address_survives_a_mail_server_that_is_down(
    app, world: World, settings, mail, monkeypatch
) -> None:
    """The notice to the old address goes through the outbox: queued with the change, retried after the
    server comes back, and sent to the old address although the user's address has changed meanwhile."""
    uid = world.users["oper"]
    with psycopg.connect(world.url) as conn:  # a confirmed address to start from
        conn.execute(
            "UPDATE api_users SET email = 'oper.old@example.ru', email_confirmed_at = now()"
            " WHERE user_id = %s",
            (uid,),
        )
    c, csrf = _browser(app, "oper")
    subject = "Изменение адреса электронной почты в личном кабинете"

    def outbox() -> list[tuple]:
        with psycopg.connect(world.url) as conn:
            return conn.execute(
                "SELECT kind, recipient, status, attempts, last_error <> '' FROM api_email_outbox"
                " WHERE user_id = %s ORDER BY id",
                (uid,),
            ).fetchall()

    def send(at: datetime):
        return send_due(lambda: psycopg.connect(world.url, autocommit=True), settings, now=lambda: at)

    before = len(mail.letters)
    mail.stop()  # down at the moment of the change
    try:
        r = c.put("/api/v1/me/email", json={"email": "oper.new@example.ru"}, headers=csrf)
        assert r.status_code == 503, r.text  # the link could not be sent; the change is kept
        assert outbox() == [("email_changed", "oper.old@example.ru", "pending", 0, False)]
    finally:
        mail.start()
    assert len(mail.letters) == before
    # the resident sends the link again and confirms: the user's address is now the new one
    assert c.post("/api/v1/me/email/confirmation", headers=csrf).status_code == 200
    assert _confirm(app, _link_token(mail, "oper.new@example.ru", before))[0] == 200
    assert c.get("/api/v1/me/email").json()["email"] == "oper.new@example.ru"
    with psycopg.connect(world.url) as conn:
        set_email_kinds(conn, uid, [])  # no consent needed, and withdrawing it cancels nothing

    assert send(datetime.now(UTC)).sent >= 1
    notice = _letters_to(mail, "oper.old@example.ru", before)
    assert [s for s, _ in notice] == [subject]
    assert "указан новый адрес oper.new@example.ru" in notice[0][1] and "логин «oper»" in notice[0][1]
    assert not [s for s, _ in _letters_to(mail, "oper.new@example.ru", before) if s == subject]
    assert outbox() == [("email_changed", "oper.old@example.ru", "sent", 1, False)]

    # clearing the (confirmed) new address while the server is down: tried at once, failed, recorded,
    # retried by the sender after the delay — to that address, although the user has none any more
    before = len(mail.letters)
    mail.stop()
    try:
        assert c.put("/api/v1/me/email", json={"email": None}, headers=csrf).status_code == 200
    finally:
        mail.start()
    assert outbox()[1:] == [("email_changed", "oper.new@example.ru", "pending", 1, True)]
    assert "held until the address is confirmed: 0" in _cli_status(world, mail, monkeypatch)
    send(datetime.now(UTC))  # not due yet (1 minute after the failed try)
    assert outbox()[1:] == [("email_changed", "oper.new@example.ru", "pending", 1, True)]
    assert _letters_to(mail, "oper.new@example.ru", before) == []
    assert send(datetime.now(UTC) + timedelta(minutes=2)).sent >= 1
    notice = _letters_to(mail, "oper.new@example.ru", before)
    assert [s for s, _ in notice] == [subject] and "адрес электронной почты удалён" in notice[0][1]
    assert outbox()[1:] == [("email_changed", "oper.new@example.ru", "sent", 2, False)]
    with psycopg.connect(world.url) as conn:
        assert conn.execute("SELECT email FROM api_users WHERE user_id = %s", (uid,)).fetchone() == (None,)


def test_an_upgraded_database_counts_only_proven_addresses_as_confirmed(empty_db_url: str) -> None:
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect
    from meterhub.timeseries.migrate import migrate

    with connect(empty_db_url) as conn:
        migrate(conn, MIGRATION_SOURCES, until=270)
        conn.autocommit = True

        def user(name: str, email: str | None) -> int:
            return conn.execute(
                "INSERT INTO api_users (username, password_hash, role, email)"
                " VALUES (%s, 'x', 'resident', %s) RETURNING user_id",
                (name, email),
            ).fetchone()[0]

        def sent_letter(uid: int, recipient: str, status: str = "sent") -> None:
            conn.execute(
                "INSERT INTO api_email_outbox (user_id, kind, recipient, subject, body, status, sent_at)"
                " VALUES (%s, 'security', %s, 's', 'b', %s, '2026-11-01T10:00Z')",
                (uid, recipient, status),
            )

        letter = user("letter", "Letter@Example.ru")  # a letter accepted for this very address
        sent_letter(letter, "letter@example.ru")
        moved = user("moved", "new@example.ru")  # letters went to an address since replaced
        sent_letter(moved, "old@example.ru")
        failed = user("failed", "failed@example.ru")  # the server refused the letter
        sent_letter(failed, "failed@example.ru", "failed")
        reset = user("reset", "reset@example.ru")  # a reset link followed (its notice exists)
        conn.execute(
            "INSERT INTO api_password_resets (token_digest, user_id, expires_at, used_at)"
            " VALUES ('d1', %s, now(), now())",
            (reset,),
        )
        conn.execute(
            "INSERT INTO api_notifications (user_id, kind, subject_key, text_ru, created_at)"
            " VALUES (%s, 'security', 'reset:d1', 'восстановлен', '2026-10-05T08:00Z')",
            (reset,),
        )
        spent = user("spent", "spent@example.ru")  # a link spent by a password change, never followed
        conn.execute(
            "INSERT INTO api_password_resets (token_digest, user_id, expires_at, used_at)"
            " VALUES ('d2', %s, now(), now())",
            (spent,),
        )
        never = user("never", "never@example.ru")
        nobody = user("nobody", None)

        migrate(conn, MIGRATION_SOURCES)
        rows = dict(
            conn.execute("SELECT username, email_confirmed_at FROM api_users ORDER BY username").fetchall()
        )
        assert rows == {
            "letter": datetime(2026, 11, 1, 10, tzinfo=UTC),
            "moved": None,
            "failed": None,
            "reset": datetime(2026, 10, 5, 8, tzinfo=UTC),
            "spent": None,
            "never": None,
            "nobody": None,
        }
        audit = conn.execute(
            "SELECT user_id, action, new_email FROM api_email_audit ORDER BY user_id"
        ).fetchall()
        assert audit == [
            (letter, "confirmed_on_upgrade", "Letter@Example.ru"),
            (reset, "confirmed_on_upgrade", "reset@example.ru"),
        ]
        assert {moved, failed, spent, never, nobody}.isdisjoint({r[0] for r in audit})


def test_an_address_typed_by_someone_else_is_not_kept_from_its_owner(app, world: World, mail) -> None:
    from meterhub.api.roles import Role
    from meterhub.api.users_store import create_user

    with psycopg.connect(world.url) as conn:
        for name in ("erin", "fedor"):
            create_user(conn, name, PASSWORD, Role.RESIDENT)
        conn.commit()
    erin, erin_csrf = _browser(app, "erin")
    before = len(mail.letters)
    assert (
        erin.put("/api/v1/me/email", json={"email": "fedor@example.ru"}, headers=erin_csrf).status_code == 200
    )
    erins_link = _link_token(mail, "fedor@example.ru", before)

    fedor, fedor_csrf = _browser(app, "fedor")
    before = len(mail.letters)
    r = fedor.put("/api/v1/me/email", json={"email": "fedor@example.ru"}, headers=fedor_csrf)
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["pending_email"]) == (None, "fedor@example.ru")
    assert _confirm(app, _link_token(mail, "fedor@example.ru", before)) == (
        200,
        {"email": "fedor@example.ru"},
    )

    mine = fedor.get("/api/v1/me/email").json()
    assert (mine["email"], mine["confirmed"]) == ("fedor@example.ru", True)
    assert erin.get("/api/v1/me/email").json()["email"] is None
    assert _confirm(app, erins_link)[0] == 400  # erin's link to it is spent
    # a confirmed address cannot be taken any more
    assert (
        erin.put("/api/v1/me/email", json={"email": "fedor@example.ru"}, headers=erin_csrf).status_code == 409
    )
    history = (
        TestClient(app)
        .get(
            f"/api/v1/admin/users/{_user_id(world, 'erin')}/email-history",
            headers=world.auth("root"),
        )
        .json()
    )
    assert [(e["action"], e["old_email"], e["actor_name"]) for e in history] == [
        ("cleared", "fedor@example.ru", "адрес подтверждён другим пользователем"),
        ("set", None, "erin"),
    ]


def _user_id(world: World, name: str) -> int:
    with psycopg.connect(world.url) as conn:
        return conn.execute("SELECT user_id FROM api_users WHERE username = %s", (name,)).fetchone()[0]


def test_two_users_setting_one_address_at_the_same_moment_get_a_409_not_a_500(app, world: World) -> None:
    """The check of who holds an address cannot see another user's change committed after it: the
    unique index refuses the second writer, and the API answers as the check would (409)."""
    import threading
    import time

    from meterhub.api.roles import Role
    from meterhub.api.users_store import create_user

    with psycopg.connect(world.url) as conn:
        gina = create_user(conn, "gina", PASSWORD, Role.RESIDENT).id
        hank = create_user(conn, "hank", PASSWORD, Role.RESIDENT).id
        conn.commit()
    c, csrf = _browser(app, "gina")
    answer: dict[str, object] = {}
    with psycopg.connect(world.url) as other:
        # hank's confirmation of the address, in flight: written, not yet committed
        other.execute(
            "UPDATE api_users SET email = 'shared@example.ru', email_confirmed_at = now() WHERE user_id = %s",
            (hank,),
        )

        def put() -> None:
            r = c.put("/api/v1/me/email", json={"email": "shared@example.ru"}, headers=csrf)
            answer["status"], answer["body"] = r.status_code, r.json()

        t = threading.Thread(target=put)
        t.start()
        with psycopg.connect(world.url, autocommit=True) as watch:  # gina's write waits on hank's row
            for _ in range(600):
                waiting = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query LIKE 'UPDATE api_users SET email%%'"
                ).fetchone()[0]
                if waiting:
                    break
                time.sleep(0.05)
            assert waiting, "gina's write never waited on hank's uncommitted address"
        other.commit()
        t.join(timeout=60)
    assert answer["status"] == 409, answer
    with psycopg.connect(world.url) as conn:
        rows = dict(
            conn.execute(
                "SELECT user_id, email FROM api_users WHERE user_id = ANY(%s)", ([gina, hank],)
            ).fetchall()
        )
    assert rows == {gina: None, hank: "shared@example.ru"}
