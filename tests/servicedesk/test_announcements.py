"""Announcements: a planned outage for a street reaches the buildings on it (not others), is shown in the
cabinet of their residents while current, goes by e-mail/SMS only to residents who opted in (delivered to
a real local SMTP server), and lands in the cabinet's notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import create_user, link_account
from meterhub.core.settings import Settings
from meterhub.servicedesk.notify import SmtpConfig, deliver_pending
from tests.billing.money_data import add_building
from tests.servicedesk.mail_servers import local_mail_system

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    tokens = {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn, "N1", {"N1-1": "1"})
        add_building(conn, "N2", {"N2-1": "1"})
        add_building(conn, "N3", {"N3-1": "1"})
        conn.execute(
            "UPDATE buildings SET address = 'г. Тверь, ул. Садовая, д. ' || right(building_id, 1)"
            " WHERE building_id IN ('N1', 'N2')"
        )
        conn.execute("UPDATE buildings SET address = 'г. Тверь, ул. Лесная, д. 3' WHERE building_id = 'N3'")
        for name, role, account, email in (
            ("oper", Role.OPERATOR, None, None),
            ("olga", Role.RESIDENT, "N1-1", "olga@mail.test"),
            ("pavel", Role.RESIDENT, "N2-1", "pavel@mail.test"),
            ("rita", Role.RESIDENT, "N3-1", "rita@mail.test"),
        ):
            uid = create_user(conn, name, "correct-horse-battery", role).id
            conn.execute(  # confirmed as after following the link (docs/api.md), but pavel's
                "UPDATE api_users SET email = %s, email_confirmed_at = CASE WHEN %s THEN now() END"
                " WHERE user_id = %s",
                (email, name != "pavel", uid),
            )
            if account:
                link_account(conn, uid, account, "admin")
            tokens[name] = {
                "Authorization": f"Bearer {issue_bearer(conn, uid, timedelta(days=1), 't').token}"
            }
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789",
        db_pool_max_size=4,
    )
    with TestClient(create_app(settings)) as c:
        c.tokens = tokens
        yield c


def test_planned_outage_for_a_street(client, db_url: str) -> None:
    t, api = client.tokens, "/api/v1/servicedesk"
    # Olga opts in by e-mail; Pavel too, but he never confirmed his address, so he gets no letter; Rita
    # (another street) opts in but is not on the street.
    assert (
        client.put(f"{api}/announcement-optin", json={"by_email": True}, headers=t["pavel"]).status_code
        == 200
    )
    assert (
        client.put(f"{api}/announcement-optin", json={"by_email": True}, headers=t["olga"]).status_code == 200
    )
    assert (
        client.put(f"{api}/announcement-optin", json={"by_email": True}, headers=t["rita"]).status_code == 200
    )
    assert (
        client.put(f"{api}/announcement-optin", json={"by_sms": True}, headers=t["pavel"]).status_code == 422
    )
    assert client.put(f"{api}/announcement-optin", json={}, headers=t["oper"]).status_code == 403
    start = datetime.now(UTC) + timedelta(days=1)
    body = {
        "kind": "planned_outage",
        "title": "Отключение горячей воды",
        "body": "Ремонт теплотрассы.",
        "service": "hot_water",
        "street": "Садовая",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=8)).isoformat(),
    }
    assert client.post(f"{api}/announcements", json=body, headers=t["olga"]).status_code == 403
    made = client.post(f"{api}/announcements", json=body, headers=t["oper"])
    assert made.status_code == 201, made.text
    assert made.json() | {"announcement_id": 0} == {
        "announcement_id": 0,
        "buildings": ["N1", "N2"],
        "residents": 2,
        "sent_by_email_or_sms": 1,
    }

    shown = client.get(f"{api}/accounts/N2-1/announcements", headers=t["pavel"]).json()
    assert [(a["kind_name"], a["title"]) for a in shown] == [
        ("Плановое отключение", "Отключение горячей воды")
    ]
    assert client.get(f"{api}/accounts/N3-1/announcements", headers=t["rita"]).json() == []
    assert client.get(f"{api}/accounts/N1-1/announcements", headers=t["pavel"]).status_code == 404
    feed = client.get("/api/v1/me/notifications", headers=t["pavel"]).json()
    assert [n["kind"] for n in feed["items"] if "Отключение горячей воды" in n["text_ru"]] == ["announcement"]

    with local_mail_system("desk@uk.test") as mail, psycopg.connect(db_url) as conn:
        sent = deliver_pending(conn, datetime.now(UTC), smtp=SmtpConfig("127.0.0.1", mail.smtp_port))
        assert sent == (1, 0)
        got = mail.messages_to("olga@mail.test")
        assert [m["Subject"] for m in got] == ["Плановое отключение: Отключение горячей воды"]
        local = start.astimezone(ZoneInfo("Europe/Moscow"))
        assert f"с {local:%d.%m.%Y %H:%M}" in got[0].get_content()
        assert mail.messages_to("rita@mail.test") == [] and mail.messages_to("pavel@mail.test") == []
