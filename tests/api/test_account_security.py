"""Accounts and sessions under attack: the login limiter raced and distributed, X-Forwarded-For from
strangers, token rules, the self-service password change and token list, link codes that expire, rotate
and can be revoked, and the headers and refusals every answer carries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from fastapi.testclient import TestClient

from meterhub.api.app import create_app
from meterhub.api.link_codes import account_link_code, recent_periods
from meterhub.api.security_checks import production_problems
from meterhub.core.settings import Settings
from tests.api.conftest import TEST_SECRET
from tests.api.world import PASSWORD, PNG, World

pytestmark = pytest.mark.db

PERIODS = recent_periods(date.today(), 3)  # this month, last month, … (newest first)


def _login(c: TestClient, username: str, password: str = PASSWORD, **kw):
    return c.post("/api/v1/auth/login", json={"username": username, "password": password}, **kw)


def _csrf(r) -> dict[str, str]:
    return {"X-CSRF-Token": r.json()["csrf_token"]}


# --- the login limiter ----------------------------------------------------------------------------


def test_twelve_parallel_wrong_passwords_check_at_most_five(world: World, api_settings) -> None:
    """The race of the issue: 12 wrong passwords at once with a limit of 5 → exactly five 401, seven 429."""
    settings = api_settings.model_copy(update={"db_pool_max_size": 12})
    with TestClient(create_app(settings), client=("192.0.2.10", 4000)) as c:
        with ThreadPoolExecutor(max_workers=12) as pool:
            codes = list(pool.map(lambda _: _login(c, "eng", "wrong-guess-1").status_code, range(12)))
        assert sorted(codes) == [401] * 5 + [429] * 7, codes
        assert _login(c, "eng").status_code == 429  # the right password too, while the window lasts


def test_a_stranger_cannot_lock_the_owner_out(world: World, api_settings) -> None:
    settings = api_settings.model_copy(update={"login_max_failures_per_account": 3})
    app = create_app(settings)
    with TestClient(app, client=("198.51.100.20", 4000)) as owner:
        assert _login(owner, "bob").status_code == 200
        assert owner.cookies.get("mh_device")  # this browser now carries bob's device cookie
        # strangers from three addresses guess bob's password: each may try 5, the account 3 in all
        for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            stranger = TestClient(app, client=(ip, 4000))  # no lifespan of its own: shares the app
            assert _login(stranger, "bob", "guess-" + ip).status_code == 401
        fourth = TestClient(app, client=("203.0.113.4", 4000))
        assert _login(fourth, "bob", "guess-4").status_code == 429  # distributed guessing is held
        assert _login(fourth, "bob").status_code == 429  # an unknown browser waits too
        # the owner's browser is not: the strangers' failures do not count against it
        assert _login(owner, "bob").status_code == 200
        # nor does a stranger on the owner's own address (one NAT) lock the owner's browser
        same_nat = TestClient(app, client=("198.51.100.20", 4000))
        for _ in range(settings.login_max_failures_per_user + 1):
            assert _login(same_nat, "bob", "nat-guess").status_code in (401, 429)
        assert _login(same_nat, "bob").status_code == 429
        assert _login(owner, "bob").status_code == 200


def test_a_device_cookie_of_another_user_is_no_pass(world: World, api_settings) -> None:
    settings = api_settings.model_copy(update={"login_max_failures_per_account": 2})
    app = create_app(settings)
    with TestClient(app, client=("198.51.100.30", 4000)) as c:
        assert _login(c, "carol").status_code == 200  # a device cookie for carol, not for acc
        for _ in range(2):
            assert _login(c, "acc", "bad-guess").status_code == 401
        other = TestClient(app, client=("198.51.100.31", 4000))
        other.cookies.set("mh_device", c.cookies.get("mh_device"), path="/api/v1/auth/")
        assert _login(other, "acc").status_code == 429  # acc's account limit holds for this browser


def test_x_forwarded_for_counts_only_from_trusted_proxies(world: World, api_settings) -> None:
    settings = api_settings.model_copy(
        update={"trusted_proxies": ["10.0.0.0/8"], "login_max_failures_per_ip": 2}
    )
    app = create_app(settings)
    with TestClient(app, client=("203.0.113.50", 4000)) as attacker:
        for i in range(2):  # a new X-Forwarded-For each time does not make a new client
            hdr = {"X-Forwarded-For": f"198.18.0.{i}"}
            assert _login(attacker, f"ghost{i}", "x-guess", headers=hdr).status_code == 401
        hdr = {"X-Forwarded-For": "198.18.0.9"}
        assert _login(attacker, "ghost9", "x", headers=hdr).status_code == 429
        proxy = TestClient(app, client=("10.1.2.3", 4000))
        for i in range(3):  # behind the trusted proxy, each forwarded client has its own count
            hdr = {"X-Forwarded-For": f"6.6.6.6, 198.18.1.{i}"}  # the left entry is the client's claim
            assert _login(proxy, f"ghost{i}", "x-guess", headers=hdr).status_code == 401
        r = _login(proxy, "carol", headers={"X-Forwarded-For": "198.18.2.7"})
        assert r.status_code == 200
        sessions = proxy.get("/api/v1/auth/tokens").json()
        assert next(s for s in sessions if s["current"])["client_ip"] == "198.18.2.7"


# --- tokens and the password -----------------------------------------------------------------------


def test_token_rules_lifetime_by_role_no_token_from_token_list_and_revoke(
    client: TestClient, world: World
) -> None:
    r = _login(client, "alice")
    csrf = _csrf(r)
    too_long = client.post("/api/v1/auth/tokens", json={"name": "ten years", "days": 3650}, headers=csrf)
    assert too_long.status_code == 422 and "30" in too_long.json()["detail"]
    ok = client.post("/api/v1/auth/tokens", json={"name": "мой скрипт"}, headers=csrf)
    assert ok.status_code == 201, ok.text
    token, token_id = ok.json()["token"], ok.json()["id"]
    days = (date.fromisoformat(ok.json()["expires_at"][:10]) - date.today()).days
    assert days <= 30
    bearer = {"Authorization": f"Bearer {token}"}
    minted = TestClient.post(client, "/api/v1/auth/tokens", json={"name": "child"}, headers=bearer)
    assert minted.status_code == 403 and "cannot create tokens" in minted.json()["detail"]
    listed = client.get("/api/v1/auth/tokens").json()
    mine = {s["id"]: s for s in listed}
    assert mine[token_id]["name"] == "мой скрипт" and mine[token_id]["kind"] == "bearer"
    assert sum(s["current"] for s in listed) == 1
    assert all("token" not in s and "digest" not in str(s) for s in listed)
    # bob's token id is not alice's to revoke
    bob_ids = [
        s["id"] for s in TestClient.get(client, "/api/v1/auth/tokens", headers=world.auth("bob")).json()
    ]
    assert client.delete(f"/api/v1/auth/tokens/{bob_ids[0]}", headers=csrf).status_code == 404
    assert client.delete(f"/api/v1/auth/tokens/{token_id}", headers=csrf).status_code == 204
    assert TestClient.get(client, "/api/v1/me", headers=bearer).status_code == 401
    client.post("/api/v1/auth/logout", headers=csrf)
    client.cookies.clear()


def test_admin_tokens_are_short_and_engineers_may_have_long_ones(world: World, api_settings) -> None:
    with TestClient(create_app(api_settings)) as c:
        csrf = _csrf(_login(c, "root"))
        assert c.post("/api/v1/auth/tokens", json={"name": "a", "days": 8}, headers=csrf).status_code == 422
        assert c.post("/api/v1/auth/tokens", json={"name": "a", "days": 7}, headers=csrf).status_code == 201
    with TestClient(create_app(api_settings)) as c:
        csrf = _csrf(_login(c, "eng"))
        assert c.post("/api/v1/auth/tokens", json={"name": "g", "days": 365}, headers=csrf).status_code == 201


def test_resident_changes_the_password_other_sessions_end(world: World, api_settings) -> None:
    app = create_app(api_settings)
    with TestClient(app) as browser:
        r = browser.post(
            "/api/v1/admin/users",
            json={"username": "erin", "password": PASSWORD, "role": "resident"},
            headers=world.auth("root"),
        )
        assert r.status_code == 201, r.text
        phone = TestClient(app)
        csrf = _csrf(_login(browser, "erin"))
        assert _login(phone, "erin").status_code == 200
        script = browser.post("/api/v1/auth/tokens", json={"name": "s"}, headers=csrf).json()["token"]
        wrong = browser.put(
            "/api/v1/me/password",
            json={"current_password": "nope", "new_password": "Ветер-в-поле-42"},
            headers=csrf,
        )
        assert wrong.status_code == 400 and "текущий пароль" in wrong.json()["detail"]
        for weak in ("password", "qwertyuiop", "erin2026", "short"):
            r = browser.put(
                "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": weak}, headers=csrf
            )
            assert r.status_code == 422, weak
            assert "парол" in r.json()["detail"], r.json()
        ok = browser.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "Ветер-в-поле-42"},
            headers=csrf,
        )
        assert ok.status_code == 204, ok.text
        assert browser.get("/api/v1/me").status_code == 200  # this session goes on
        assert phone.get("/api/v1/me").status_code == 401  # the other one ended
        assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {script}"}).status_code == 401
        note = browser.get("/api/v1/me/notifications").json()
        assert any("Пароль изменён" in n["text_ru"] for n in note["items"])
        browser.cookies.clear()
        assert _login(browser, "erin", PASSWORD).status_code == 401
        csrf = _csrf(_login(browser, "erin", "Ветер-в-поле-42"))
        back = browser.put(
            "/api/v1/me/password",
            json={"current_password": "Ветер-в-поле-42", "new_password": PASSWORD},
            headers=csrf,
        )
        assert back.status_code == 204
        # a bearer token cannot change the password
        r = phone.put(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "another-good-one-7"},
            headers=world.auth("bob"),
        )
        assert r.status_code == 403


def test_common_passwords_are_refused_when_an_admin_sets_them(client: TestClient, world: World) -> None:
    for weak in ("password", "12345678", "йцукенгш", "newbie123"):
        r = client.post(
            "/api/v1/admin/users",
            json={"username": "newbie", "password": weak, "role": "resident"},
            headers=world.auth("root"),
        )
        assert r.status_code == 422, (weak, r.text)


# --- link codes -----------------------------------------------------------------------------------


def _link(client: TestClient, world: World, who: str, account: str, code: str):
    return client.post(
        "/api/v1/me/accounts", json={"account_no": account, "code": code}, headers=world.auth(who)
    )


def test_link_codes_expire_rotate_notify_and_can_be_revoked(client: TestClient, world: World) -> None:
    this_month, last_month, older, oldest = PERIODS
    expired = recent_periods(date.today(), 4)[-1]
    r = _link(client, world, "dave", "LS-3", account_link_code("LS-3", TEST_SECRET, expired))
    assert r.status_code == 400 and "неверный" in r.json()["detail"]
    # bob is the account's first user (linked by staff); dave links with the code of an older receipt
    assert client.post(
        f"/api/v1/admin/users/{world.users['bob']}/accounts",
        json={"account_no": "LS-3"},
        headers=world.auth("root"),
    ).status_code in (200, 201, 204)
    ok = _link(client, world, "dave", "LS-3", account_link_code("LS-3", TEST_SECRET, older))
    assert ok.status_code == 200, ok.text
    told = TestClient.get(client, "/api/v1/me/notifications", headers=world.auth("bob")).json()["items"]
    assert any("LS-3" in n["text_ru"] and "dave" in n["text_ru"] for n in told)
    # that code and every older one are spent: «код уже использован»
    for period in (older, oldest):
        again = _link(client, world, "carol", "LS-3", account_link_code("LS-3", TEST_SECRET, period))
        assert again.status_code == 400 and "код уже использован" in again.json()["detail"]
    # staff see the links and revoke dave's, which also kills the codes printed so far
    links = TestClient.get(client, "/api/v1/accounts/LS-3/links", headers=world.auth("acc")).json()
    assert {(x["username"], x["linked_by"]) for x in links} >= {("dave", "receipt_code"), ("bob", "admin")}
    gone = TestClient.delete(
        client, f"/api/v1/accounts/LS-3/links/{world.users['dave']}", headers=world.auth("acc")
    )
    assert gone.status_code == 204
    assert (
        "LS-3" not in TestClient.get(client, "/api/v1/me", headers=world.auth("dave")).json()["account_nos"]
    )
    revoked = _link(client, world, "carol", "LS-3", account_link_code("LS-3", TEST_SECRET, last_month))
    assert revoked.status_code == 400 and "отозван" in revoked.json()["detail"]
    # the next receipt's code works
    fresh = _link(client, world, "carol", "LS-3", account_link_code("LS-3", TEST_SECRET, this_month))
    assert fresh.status_code == 200, fresh.text
    # residents cannot see or revoke links
    assert (
        TestClient.get(client, "/api/v1/accounts/LS-3/links", headers=world.auth("carol")).status_code == 403
    )


# --- headers, docs, production, bounds -------------------------------------------------------------


def test_api_answers_and_photos_are_not_cached_or_sniffed(client: TestClient, world: World) -> None:
    alice = world.auth("alice")
    r = client.post(
        "/api/v1/accounts/LS-1/requests",
        data={"category": "other", "text": "фото"},
        files={"photo": ("p.png", PNG, "image/png")},
        headers=alice,
    )
    photo = client.get(f"/api/v1/requests/{r.json()['id']}/photo", headers=alice)
    for answer in (client.get("/api/v1/accounts/LS-1", headers=alice), photo, client.get("/api/v1/me")):
        assert "no-store" in answer.headers["cache-control"], answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in answer.headers  # plain HTTP: no HSTS


def test_hsts_behind_https_from_a_trusted_proxy_only(world: World, api_settings) -> None:
    app = create_app(api_settings.model_copy(update={"trusted_proxies": ["10.0.0.1"]}))
    with TestClient(app, client=("10.0.0.1", 4000)) as proxy:
        r = proxy.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["strict-transport-security"].startswith("max-age=31536000")
        stranger = TestClient(app, client=("203.0.113.9", 4000))
        r = stranger.get("/api/v1/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers
        direct = TestClient(app, base_url="https://cabinet.example")
        assert "strict-transport-security" in direct.get("/cabinet/login").headers


def test_swagger_is_local_and_staff_only_in_production(world: World, api_settings) -> None:
    with TestClient(create_app(api_settings)) as dev:
        page = dev.get("/api/v1/docs")
        assert page.status_code == 200
        assert "cdn" not in page.text.lower() and "/api/v1/docs/assets/swagger-ui-bundle.js" in page.text
        asset = dev.get("/api/v1/docs/assets/swagger-ui-bundle.js")
        assert asset.status_code == 200 and len(asset.content) > 100_000
        assert dev.get("/api/v1/openapi.json").json()["openapi"].startswith("3.")
    prod = api_settings.model_copy(
        update={
            "env": "production",
            "secret_key": "Zq3-vT9_mK2pLx8Rb4NwYe7Hc1Uj6Fs0Ga5DoI",
            "cookie_secure": True,
        }
    )
    with TestClient(create_app(prod), base_url="https://testserver") as c:
        assert c.get("/api/v1/docs").status_code == 404
        assert c.get("/api/v1/openapi.json").status_code == 404
        _login(c, "alice")
        assert c.get("/api/v1/docs").status_code == 404  # residents neither
        c.cookies.clear()
        _login(c, "acc")
        assert c.get("/api/v1/docs").status_code == 200
        assert c.get("/api/v1/openapi.json").status_code == 200


def test_production_refuses_a_secret_of_spaces() -> None:
    problems = production_problems(Settings(env="production", secret_key=" " * 32, cookie_secure=True))
    assert problems and "METERHUB_SECRET_KEY" in problems[0]


@pytest.mark.parametrize("as_of", ["1900-01-01", "9999-12-31", "1999-12-31"])
def test_debt_receipt_dates_are_bounded(client: TestClient, world: World, as_of: str) -> None:
    r = client.get(
        "/api/v1/accounts/LS-1/receipts/debt.pdf", params={"as_of": as_of}, headers=world.auth("alice")
    )
    assert r.status_code == 422
    assert "as_of" in r.json()["detail"] and "по сегодняшний день" in r.json()["detail"]


def test_import_errors_show_no_server_path_and_a_header_only_csv_is_named(
    client: TestClient, world: World, api_settings
) -> None:
    header_only = "account,building,premise,share,owner,owners,opened_on,closed_on\n"
    bad = "account,building,premise,share,owner,owners,opened_on,closed_on\nLS-12,NOPE,9,1,X,1,2024-01-01,\n"
    r = client.post(
        "/api/v1/jobs/import",
        files=[
            ("files", ("accounts.csv", header_only.encode(), "text/csv")),
            ("files", ("premises.csv", b"", "text/csv")),
            ("files", ("accounts_2.csv", bad.encode(), "text/csv")),
        ],
        headers=world.auth("acc"),
    )
    assert r.status_code == 202, r.text
    client.app.state.jobs.wait(r.json()["job_id"], timeout=60)
    job = client.get(f"/api/v1/jobs/{r.json()['job_id']}", headers=world.auth("acc")).json()
    assert job["status"] == "failed"
    assert "accounts.csv: the file has only the header" in job["error"]
    assert "premises.csv: the file is empty" in job["error"]
    assert "accounts_2.csv: row 2" in job["error"]
    data_dir = str(api_settings.data_dir)
    assert data_dir not in job["error"] and "/uploads/" not in job["error"]
    assert data_dir not in str(job["result"] or "") and "/tmp" not in job["error"]


def test_no_server_path_even_in_an_unexpected_failure() -> None:
    from meterhub.api.jobs_runner import without_paths

    text = "OSError: [Errno 2] No such file: '/srv/meterhub/uploads/1f2e/accounts.csv' (see /var/log/x.log)"
    assert without_paths(text) == "OSError: [Errno 2] No such file: 'accounts.csv' (see x.log)"
