"""The service desk API with the operator, contractor and resident roles: lookup by account, phone and
address, a phone request routed to a contractor who sees only its queue, answers, the resident's
confirmation with a rating, the control list, the reports, and the role boundaries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient

from meterhub.api.roles import Role
from meterhub.api.sessions import issue_bearer
from meterhub.api.users_store import create_user, link_account
from meterhub.core.settings import Settings
from tests.billing.money_data import add_building

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def client(db_url: str, tmp_path_factory: pytest.TempPathFactory):
    from meterhub.api.app import create_app

    tokens, ids = {}, {}
    with psycopg.connect(db_url, autocommit=True) as conn:
        add_building(conn, "SB", {"SB-101": "1", "SB-102": "2"})
        conn.execute("UPDATE buildings SET address = 'г. Тверь, ул. Ленина, д. 5' WHERE building_id = 'SB'")
        ids["plumber"] = conn.execute(
            "INSERT INTO sd_executors (name, kind) VALUES ('ООО Сантехник', 'contractor')"
            " RETURNING executor_id"
        ).fetchone()[0]
        ids["other"] = conn.execute(
            "INSERT INTO sd_executors (name, kind) VALUES ('ООО Электрик', 'contractor')"
            " RETURNING executor_id"
        ).fetchone()[0]
        conn.execute("INSERT INTO sd_routes (category, executor_id) VALUES ('fault', %s)", (ids["plumber"],))
        for name, role in (
            ("oper", Role.OPERATOR),
            ("subco", Role.CONTRACTOR),
            ("elec", Role.CONTRACTOR),
            ("alice", Role.RESIDENT),
            ("acc", Role.ACCOUNTANT),
        ):
            uid = create_user(conn, name, "correct-horse-battery", role).id
            token = issue_bearer(conn, uid, timedelta(days=1), "t").token
            tokens[name] = {"Authorization": f"Bearer {token}"}
            ids[name] = uid
        link_account(conn, ids["alice"], "SB-101", "admin")
        conn.execute(
            "INSERT INTO sd_executor_users VALUES (%s, %s), (%s, %s)",
            (ids["subco"], ids["plumber"], ids["elec"], ids["other"]),
        )
    settings = Settings(
        database_url=db_url,
        data_dir=Path(tmp_path_factory.mktemp("d")),
        secret_key="test-secret-key-for-meterhub-api-tests-0123456789",
        db_pool_max_size=4,
    )
    with TestClient(create_app(settings)) as c:
        c.tokens, c.ids = tokens, ids
        yield c


def test_operator_request_to_contractor_and_back(client) -> None:
    t, api = client.tokens, "/api/v1/servicedesk"
    by_account = client.get(f"{api}/lookup", params={"q": "SB-10"}, headers=t["oper"]).json()
    assert [h["account_no"] for h in by_account] == ["SB-101", "SB-102"]
    by_address = client.get(f"{api}/lookup", params={"q": "Ленина 5 кв 2"}, headers=t["oper"]).json()
    assert [(h["account_no"], h["matched"]) for h in by_address] == [("SB-102", "address")]
    assert client.get(f"{api}/lookup", params={"q": "SB"}, headers=t["subco"]).status_code == 403

    made = client.post(
        f"{api}/requests",
        headers=t["oper"],
        json={
            "channel": "phone",
            "category": "fault",
            "account_no": "SB-101",
            "text": "Течёт стояк в ванной",
            "applicant": "Алиса",
            "contact": "+7 900 555-44-33",
        },
    )
    assert made.status_code == 201, made.text
    card = made.json()
    rid = card["id"]
    assert (card["channel_name"], card["executor"], card["status"]) == (
        "телефон",
        "ООО Сантехник",
        "in_progress",
    )
    # The phone the operator wrote down finds the account next time.
    by_phone = client.get(f"{api}/lookup", params={"q": "8 (900) 555-44-33"}, headers=t["oper"]).json()
    assert [(h["account_no"], h["matched"]) for h in by_phone] == [("SB-101", "phone")]
    bad = client.post(
        f"{api}/requests",
        headers=t["oper"],
        json={"channel": "phone", "category": "nope", "text": "x", "account_no": "SB-101"},
    )
    assert bad.status_code == 422 and "unknown category" in bad.text

    # The contractor sees its queue only; the other contractor does not see the request.
    assert [r["id"] for r in client.get(f"{api}/queue", headers=t["subco"]).json()] == [rid]
    assert client.get(f"{api}/queue", headers=t["elec"]).json() == []
    assert client.get(f"{api}/requests/{rid}", headers=t["elec"]).status_code == 404
    assert (
        client.post(f"{api}/requests/{rid}/answer", headers=t["elec"], json={"text": "x"}).status_code == 404
    )
    assert (
        client.post(
            f"{api}/requests/{rid}/assign", headers=t["subco"], json={"executor_id": client.ids["other"]}
        ).status_code
        == 403
    )
    assert client.get(f"{api}/reports", headers=t["subco"]).status_code == 403
    assert client.get(f"{api}/queue", headers=t["acc"]).status_code == 403

    answered = client.post(
        f"{api}/requests/{rid}/answer", headers=t["subco"], json={"text": "Мастер придёт завтра"}
    )
    assert answered.status_code == 200 and answered.json()["responded_at"] is not None
    done = client.post(f"{api}/requests/{rid}/resolve", headers=t["subco"], json={"text": "Стояк заменён"})
    assert done.json()["status"] == "done"
    # The resident sees the answer in the cabinet and confirms with a rating.
    mine = client.get(f"/api/v1/requests/{rid}", headers=t["alice"]).json()
    assert mine["status"] == "done" and [h["comment"] for h in mine["history"]][-2:] == [
        "Мастер придёт завтра",
        "Стояк заменён",
    ]
    confirmed = client.post(
        f"{api}/requests/{rid}/confirm", headers=t["alice"], json={"accepted": True, "rating": 4}
    )
    assert confirmed.json() == {"id": rid, "status": "closed"}
    assert (
        client.post(f"{api}/requests/{rid}/confirm", headers=t["oper"], json={"accepted": True}).status_code
        == 403
    )
    card = client.get(f"{api}/requests/{rid}", headers=t["oper"]).json()
    assert (card["rating"], card["resident_confirmed"]) == (4, True)
    assert [e["kind"] for e in card["events"]] == [
        "registered",
        "assigned",
        "responded",
        "resolved",
        "closed",
    ]

    report = client.get(f"{api}/reports", params={"by": "channel"}, headers=t["oper"]).json()
    phone = next(r for r in report if r["key"] == "phone")
    assert (phone["registered"], phone["resolved"], phone["resolved_on_time"], phone["share_on_time"]) == (
        1,
        1,
        1,
        "100.0",
    )
    assert client.get(f"{api}/control", headers=t["oper"]).json() == []


def test_act_drawn_up_confirmed_and_cancelled_through_the_api(client, db_url: str) -> None:
    t, api = client.tokens, "/api/v1/servicedesk"
    rid = client.post(
        f"{api}/requests",
        headers=t["oper"],
        json={
            "channel": "phone",
            "category": "undersupply",
            "account_no": "SB-102",
            "text": "Нет холодной воды",
        },
    ).json()["id"]
    body = {
        "service": "cold_water",
        "kind": "interruption",
        "started_at": "2026-11-20T08:00:00+03:00",
        "findings": "ХВС отсутствует",
    }
    assert client.post(f"{api}/requests/{rid}/acts", headers=t["subco"], json=body).status_code == 403
    act = client.post(f"{api}/requests/{rid}/acts", headers=t["oper"], json=body)
    assert act.status_code == 201, act.text
    act = act.json()
    assert (act["premise_no"], act["status"], act["billing_event_id"]) == ("2", "draft", None)
    early = client.post(
        f"{api}/requests/{rid}/acts/confirm", params={"act_id": act["act_id"]}, json={}, headers=t["oper"]
    )
    assert early.status_code == 409 and "not restored" in early.text
    done = client.post(
        f"{api}/requests/{rid}/acts/confirm",
        params={"act_id": act["act_id"]},
        json={"ended_at": "2026-11-21T02:30:00+03:00"},
        headers=t["oper"],
    ).json()
    assert done["status"] == "confirmed"
    with psycopg.connect(db_url) as conn:
        event = conn.execute(
            "SELECT building_id, premise_no, service, kind, ended_at - started_at FROM service_events"
            " WHERE event_id = %s",
            (done["billing_event_id"],),
        ).fetchone()
    assert event == ("SB", "2", "cold_water", "interruption", timedelta(hours=18, minutes=30))
    cancelled = client.post(
        f"{api}/requests/{rid}/acts/cancel", params={"act_id": act["act_id"]}, headers=t["oper"]
    )
    assert cancelled.json()["status"] == "cancelled"
    with psycopg.connect(db_url) as conn:
        gone = conn.execute(
            "SELECT count(*) FROM service_events WHERE event_id = %s", (done["billing_event_id"],)
        )
        assert gone.fetchone() == (0,)
