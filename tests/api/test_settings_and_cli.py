"""Production refuses default secrets; session expiry; `meterhub users` and `meterhub serve` commands."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from meterhub.api.app import create_app
from meterhub.api.security_checks import InsecureSettingsError, production_problems
from meterhub.cli.main import app as cli
from meterhub.core.settings import DEFAULT_SECRET_KEY, Settings
from tests.api.world import PASSWORD, World

STRONG = "Zq3-vT9_mK2pLx8Rb4NwYe7Hc1Uj6Fs0Ga5DoI"  # as secrets.token_urlsafe makes them


def test_production_refuses_the_default_secret_and_insecure_cookies() -> None:
    problems = production_problems(Settings(env="production"))
    assert any("METERHUB_SECRET_KEY" in p for p in problems)
    assert any("METERHUB_COOKIE_SECURE" in p for p in problems)
    assert any("shorter" in p for p in production_problems(Settings(env="production", secret_key="short")))
    with pytest.raises(InsecureSettingsError, match="refusing to start in production mode"):
        create_app(Settings(env="production", secret_key=DEFAULT_SECRET_KEY, cookie_secure=True))
    assert production_problems(Settings(env="production", secret_key=STRONG, cookie_secure=True)) == []
    # a "secret" of 32+ spaces or one repeated character is refused
    for weak in (" " * 40, "k" * 48, "ab" * 24, " " * 30 + "abc"):
        problems = production_problems(Settings(env="production", secret_key=weak, cookie_secure=True))
        assert any("METERHUB_SECRET_KEY" in p for p in problems), repr(weak)
    assert production_problems(Settings()) == []  # development allows the defaults


def test_serve_refuses_production_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from meterhub.core.settings import get_settings

    monkeypatch.setenv("METERHUB_ENV", "production")
    monkeypatch.delenv("METERHUB_SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "refusing to start in production mode" in result.output


@pytest.mark.db
def test_secure_cookie_flag_follows_the_settings(world: World, api_settings: Settings) -> None:
    with TestClient(create_app(api_settings.model_copy(update={"cookie_secure": True}))) as c:
        r = c.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
        assert r.status_code == 200
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


@pytest.mark.db
def test_expired_session_is_401(client: TestClient, world: World) -> None:
    from meterhub.timeseries.database import connect

    r = client.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
    assert client.get("/api/v1/me").status_code == 200
    with connect(world.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE api_sessions SET expires_at = now() - interval '1 second' WHERE kind = 'session'"
        )
    expired = client.get("/api/v1/me")
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert r.status_code == 200
    client.cookies.clear()


@pytest.mark.db
def test_users_cli_add_assign_passwd_list(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from meterhub.core.settings import get_settings

    monkeypatch.setenv("METERHUB_DATABASE_URL", world.url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        add = runner.invoke(
            cli,
            ["users", "add", "nina", "--role", "resident", "--name", "Нина", "--password-stdin"],
            input="nina-password-1\n",
        )
        assert add.exit_code == 0, add.output
        assert "user nina (resident) created" in add.output
        weak = runner.invoke(
            cli, ["users", "add", "weak", "--role", "admin", "--password-stdin"], input="123\n"
        )
        assert weak.exit_code == 1 and "at least 8" in weak.output
        bad_role = runner.invoke(
            cli, ["users", "add", "x1", "--role", "boss", "--password-stdin"], input="x\n"
        )
        assert bad_role.exit_code == 1 and "resident, engineer" in bad_role.output
        link = runner.invoke(cli, ["users", "assign", "nina", "--account", "LS-3"])
        assert link.exit_code == 0 and "accounts LS-3" in link.output
        eng = runner.invoke(cli, ["users", "assign", "eng", "--building", "B1", "--building", "B2"])
        assert eng.exit_code == 0 and "buildings B1, B2" in eng.output
        wrong = runner.invoke(cli, ["users", "assign", "eng", "--account", "LS-1"])
        assert wrong.exit_code == 1 and "residents only" in wrong.output
        passwd = runner.invoke(
            cli, ["users", "passwd", "nina", "--password-stdin"], input="nina-password-2\n"
        )
        assert passwd.exit_code == 0
        listed = runner.invoke(cli, ["users", "list", "--role", "resident"])
        assert "nina" in listed.output and "accounts=LS-3" in listed.output
    finally:
        get_settings.cache_clear()
    from meterhub.api.passwords import verify_password
    from meterhub.api.users_store import get_user_record
    from meterhub.timeseries.database import connect

    with connect(world.url) as conn:
        rec = get_user_record(conn, username="nina")
    assert rec is not None and verify_password(rec.password_hash, "nina-password-2")[0]
