"""User administration through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.world import World

pytestmark = pytest.mark.db


def test_create_assign_and_log_in_as_the_new_engineer(client: TestClient, world: World) -> None:
    root = world.auth("root")
    r = client.post(
        "/api/v1/admin/users",
        json={
            "username": "Petrova",
            "password": "long-enough-secret",
            "role": "engineer",
            "full_name": "Петрова О. В.",
        },
        headers=root,
    )
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    assert r.json()["username"] == "petrova"
    assigned = client.put(f"/api/v1/admin/users/{uid}/buildings", json={"building_ids": ["B2"]}, headers=root)
    assert assigned.json()["building_ids"] == ["B2"]
    login = client.post("/api/v1/auth/login", json={"username": "petrova", "password": "long-enough-secret"})
    assert login.status_code == 200 and login.json()["user"]["building_ids"] == ["B2"]
    client.cookies.clear()
    dup = client.post(
        "/api/v1/admin/users",
        json={"username": "petrova", "password": "long-enough-secret", "role": "engineer"},
        headers=root,
    )
    assert dup.status_code == 409 and "exists" in dup.json()["detail"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "x y", "password": "long-enough-secret", "role": "admin"}, "username"),
        ({"username": "kim", "password": "short", "role": "admin"}, "password"),
        ({"username": "kim", "password": "long-enough-secret", "role": "boss"}, "role"),
    ],
)
def test_create_user_validation(client: TestClient, world: World, body: dict, field: str) -> None:
    r = client.post("/api/v1/admin/users", json=body, headers=world.auth("root"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field]


def test_link_unlink_accounts_and_list(client: TestClient, world: World) -> None:
    root, dave = world.auth("root"), world.users["dave"]
    linked = client.post(f"/api/v1/admin/users/{dave}/accounts", json={"account_no": "LS-9"}, headers=root)
    assert linked.status_code == 200 and linked.json()["account_nos"] == ["LS-9"]
    assert client.get("/api/v1/accounts/LS-9", headers=world.auth("dave")).status_code == 200
    assert (
        client.post(
            f"/api/v1/admin/users/{dave}/accounts", json={"account_no": "NOPE"}, headers=root
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/admin/users/{world.users['eng']}/accounts", json={"account_no": "LS-9"}, headers=root
        ).status_code
        == 422
    )
    unlinked = client.delete(f"/api/v1/admin/users/{dave}/accounts/LS-9", headers=root)
    assert unlinked.status_code == 200 and unlinked.json()["account_nos"] == []
    assert client.get("/api/v1/accounts/LS-9", headers=world.auth("dave")).status_code == 404
    residents = client.get("/api/v1/admin/users", params={"role": "resident"}, headers=root).json()
    assert {u["username"] for u in residents} >= {"alice", "bob", "carol", "dave"}
    assert all(u["role"] == "resident" for u in residents)


def test_disable_and_password_reset_end_sessions(client: TestClient, world: World) -> None:
    root = world.auth("root")
    uid = client.post(
        "/api/v1/admin/users",
        json={"username": "temp", "password": "long-enough-secret", "role": "accountant"},
        headers=root,
    ).json()["id"]
    token = client.post("/api/v1/auth/login", json={"username": "temp", "password": "long-enough-secret"})
    client.cookies.clear()
    bearer = {
        "Authorization": "Bearer "
        + client.post(
            "/api/v1/auth/tokens",
            json={"name": "t"},
            cookies=dict(token.cookies),
            headers={"X-CSRF-Token": token.json()["csrf_token"]},
        ).json()["token"]
    }
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=bearer).status_code == 200
    assert (
        client.put(
            f"/api/v1/admin/users/{uid}/password", json={"password": "another-long-one"}, headers=root
        ).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert (
        client.patch(f"/api/v1/admin/users/{uid}", json={"active": False}, headers=root).json()["active"]
        is False
    )
    assert (
        client.post(
            "/api/v1/auth/login", json={"username": "temp", "password": "another-long-one"}
        ).status_code
        == 401
    )
    assert client.delete(f"/api/v1/admin/users/{uid}", headers=root).status_code == 204
    assert client.get(f"/api/v1/admin/users/{uid}", headers=root).status_code == 404


def test_admin_cannot_lock_themselves_out(client: TestClient, world: World) -> None:
    root, me = world.auth("root"), world.users["root"]
    assert (
        client.patch(f"/api/v1/admin/users/{me}", json={"role": "resident"}, headers=root).status_code == 409
    )
    assert client.patch(f"/api/v1/admin/users/{me}", json={"active": False}, headers=root).status_code == 409
    assert client.delete(f"/api/v1/admin/users/{me}", headers=root).status_code == 409


def test_only_admins_administer(client: TestClient, world: World) -> None:
    for who in ("alice", "eng", "acc"):
        assert client.get("/api/v1/admin/users", headers=world.auth(who)).status_code == 403
