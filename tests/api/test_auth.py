"""Login, sessions, CSRF, bearer tokens, rate limiting and account linking, through the HTTP API."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from meterhub.api.link_codes import account_link_code, recent_periods
from tests.api.conftest import TEST_SECRET
from tests.api.world import PASSWORD, World

pytestmark = pytest.mark.db
LAST_MONTH = recent_periods(date.today(), 1)[1]  # the period of the latest printed receipt


def _login(client: TestClient, username: str, password: str = PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_sets_httponly_session_and_readable_csrf_cookie(client: TestClient, world: World) -> None:
    r = _login(client, "Alice")  # usernames are case-insensitive
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["username"] == "alice"
    assert body["user"]["role"] == "resident"
    assert body["user"]["account_nos"] == ["LS-1"]
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("mh_session="))
    csrf = next(c for c in cookies if c.startswith("mh_csrf="))
    assert "HttpOnly" in session and "samesite=lax" in session.lower() and "Max-Age=43200" in session
    assert "HttpOnly" not in csrf
    assert f"mh_csrf={body['csrf_token']}" in csrf
    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["username"] == "alice"
    client.cookies.clear()


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, world: World) -> None:
    a = _login(client, "eng", "wrong-password")
    b = _login(client, "nobody-here", "wrong-password")
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_cookie_unsafe_method_needs_csrf_header(client: TestClient, world: World) -> None:
    r = _login(client, "dave")
    csrf = r.json()["csrf_token"]
    no_header = client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert no_header.status_code == 403
    assert "X-CSRF-Token" in no_header.json()["detail"]
    wrong = client.post("/api/v1/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    ok = client.post("/api/v1/auth/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201, ok.text
    # The new bearer token works without cookies and without CSRF.
    token = ok.json()["token"]
    out = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    assert client.get("/api/v1/me").status_code == 401  # the session is gone
    client.cookies.clear()
    assert (
        TestClient.get(client, "/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_unauthenticated_and_bad_token_are_401(client: TestClient) -> None:
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]


def test_login_validation_errors_are_422_naming_the_field(client: TestClient) -> None:
    r = client.post("/api/v1/auth/login", json={"username": "alice"})
    assert r.status_code == 422
    assert any(e["loc"][-1] == "password" for e in r.json()["detail"])


def test_login_is_rate_limited_per_user_and_client(client: TestClient, world: World, api_settings) -> None:
    limit = api_settings.login_max_failures_per_user
    for _ in range(limit):
        assert _login(client, "acc", "bad-password").status_code == 401
    blocked = _login(client, "acc")  # even the right password is refused while blocked
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= api_settings.login_rate_window_seconds
    # Another username from the same client is not blocked by acc's failures (per-client limit higher).
    assert _login(client, "root").status_code == 200
    client.cookies.clear()


def test_link_account_with_receipt_code_once(client: TestClient, world: World) -> None:
    dave = world.auth("dave")
    code = account_link_code("LS-3", TEST_SECRET, LAST_MONTH)
    wrong = client.post("/api/v1/me/accounts", json={"account_no": "LS-3", "code": "AAAA-AAAA"}, headers=dave)
    assert wrong.status_code == 400
    ok = client.post(
        "/api/v1/me/accounts",
        json={"account_no": "LS-3", "code": code.lower().replace("-", " ")},
        headers=dave,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["account_nos"] == ["LS-3"]
    assert ok.json()["building_ids"] == ["B1"]
    # The code is one-time: another resident cannot reuse it.
    again = client.post(
        "/api/v1/me/accounts", json={"account_no": "LS-3", "code": code}, headers=world.auth("carol")
    )
    assert again.status_code == 400
    assert "used" in again.json()["detail"]
    # Staff do not link accounts.
    staff = client.post(
        "/api/v1/me/accounts", json={"account_no": "LS-3", "code": code}, headers=world.auth("acc")
    )
    assert staff.status_code == 403


def test_login_is_rate_limited_per_client_address(world: World, api_settings) -> None:
    from meterhub.api.app import create_app

    strict = api_settings.model_copy(
        update={"login_max_failures_per_ip": 3, "login_max_failures_per_user": 100}
    )
    with TestClient(create_app(strict), client=("203.0.113.7", 5000)) as c:
        for name in ("ghost1", "ghost2", "ghost3"):  # three different usernames, one address
            assert _login(c, name, "bad-password").status_code == 401
        blocked = _login(c, "bob")
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
    with TestClient(create_app(strict), client=("198.51.100.9", 5000)) as other:
        assert _login(other, "bob").status_code == 200  # another address is not affected


def test_wrong_link_codes_are_rate_limited(client: TestClient, world: World, api_settings) -> None:
    carol = world.auth("carol")
    for _ in range(api_settings.link_max_failures_per_user):
        r = client.post(
            "/api/v1/me/accounts", json={"account_no": "LS-1", "code": "0000-0000"}, headers=carol
        )
        assert r.status_code == 400
    right = account_link_code("LS-1", TEST_SECRET, LAST_MONTH)
    r = client.post("/api/v1/me/accounts", json={"account_no": "LS-1", "code": right}, headers=carol)
    assert r.status_code == 429  # even the right code, until the window passes
