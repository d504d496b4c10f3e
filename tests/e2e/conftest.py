"""Fixtures of the end-to-end tests: a seeded database, the real app in uvicorn, headless Chromium.

The database is the world of the API tests (tests/api/world.py: building B1 with January 2026 closed;
resident ``alice`` linked to account LS-1 whose electricity meter E-1 has 0.5 kWh every hour of
January 2026 on a two-zone tariff, day 6.00 ₽ / night 3.00 ₽) plus, for the cabinet:

* 2026-01-20 10:00–14:00 local of E-1 marked *estimated* (quality 2) — hatched bars;
* 2025-01-15 of E-1 at 0.4 kWh every hour — the comparison with the same day a year earlier.

Without playwright or a Chromium executable every browser test is skipped with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.harness import LiveServer, artifacts_dir, browser_missing_reason, chromium_path, run_app

pytest.importorskip("fastapi", reason="the api extra is not installed (pip install -e '.[api]')")

DEMO_USER = "alice"
DEMO_ACCOUNT = "LS-1"
DEMO_METER = "E-1"
KNOWN_DAY = "2026-01-15"
ESTIMATED_DAY = "2026-01-20"
TEST_SECRET = "e2e-secret-key-for-meterhub-cabinet-tests-0123456789"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _seed_cabinet_extras(url: str) -> None:
    from zoneinfo import ZoneInfo

    from meterhub.timeseries.database import connect
    from tests.billing.close_data import series_id, write_hourly

    moscow = ZoneInfo("Europe/Moscow")
    with connect(url) as conn:
        conn.execute(
            "SELECT meterhub_ensure_partitions(%s, %s, %s)",
            ("hourly_consumption", datetime(2025, 1, 1, tzinfo=moscow), datetime(2025, 2, 1, tzinfo=moscow)),
        )
        day_2025 = datetime(2025, 1, 15, tzinfo=moscow)
        write_hourly(conn, DEMO_METER, "energy_import_kwh", day_2025, day_2025 + timedelta(days=1), 400_000)
        est_from = datetime(2026, 1, 20, 10, tzinfo=moscow)
        conn.execute(
            "UPDATE hourly_consumption SET quality = 2 WHERE series_id = %s AND hour >= %s AND hour < %s",
            (series_id(conn, DEMO_METER, "energy_import_kwh"), est_from, est_from + timedelta(hours=4)),
        )
        conn.commit()


@pytest.fixture(scope="module")
def cabinet_world(db_url: str):
    from tests.api.world import build_world

    world = build_world(db_url)
    _seed_cabinet_extras(db_url)
    return world


def app_env(db_url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The live app's environment: the test database, a data folder, the test secret, plus ``settings``
    (``smtp_host="127.0.0.1"`` → ``METERHUB_SMTP_HOST``)."""
    env = {
        "METERHUB_DATABASE_URL": db_url,
        "METERHUB_DATA_DIR": str(data_dir),
        "METERHUB_SECRET_KEY": TEST_SECRET,
        "METERHUB_DB_POOL_MAX_SIZE": "4",
        "METERHUB_LOG_LEVEL": "WARNING",
    }
    return env | {f"METERHUB_{k.upper()}": v for k, v in settings.items()}


@pytest.fixture(scope="module")
def live_server(cabinet_world, db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    env = app_env(db_url, tmp_path_factory.mktemp("meterhub-e2e-data"))
    with run_app(env, artifacts_dir() / "server.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module. Module scope, not session: Playwright's sync API keeps
    its event loop running in the main thread while it is started, which would make every later
    test's ``asyncio.run()`` fail (gateway, ingest), so it is stopped when the module ends."""
    reason = browser_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        args = ["--lang=ru-RU"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # root (CI containers): the sandbox needs an unprivileged user
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=args)
        yield b
        b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


class BrowserGuard:
    """What a page must not do: load anything from outside the app, break CSP, throw."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.external: list[str] = []
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []

    def route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.origin) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def console(self, msg) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.csp_violations.append(msg.text)

    def check(self) -> None:
        assert not self.external, f"the cabinet tried to load from outside the app: {self.external}"
        assert not self.csp_violations, f"Content-Security-Policy violations: {self.csp_violations}"
        assert not self.page_errors, f"uncaught JavaScript errors: {self.page_errors}"


@pytest.fixture()
def open_page(browser, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Callable]:
    """``open_page(viewport=DESKTOP)`` -> a fresh Playwright page in its own browser context."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP, *, phone: bool = False):
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport,
            locale="ru-RU",
            timezone_id="Europe/Moscow",
            accept_downloads=True,
            is_mobile=phone,
            has_touch=phone,
            device_scale_factor=2 if phone else 1,
        )
        context.set_default_timeout(15_000)
        guard = BrowserGuard(live_server.url)
        context.route("**/*", guard.route)
        page = context.new_page()
        page.on("console", guard.console)
        page.on("pageerror", lambda exc: guard.page_errors.append(str(exc)))
        contexts.append((context, page, guard))
        return page

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for i, (context, page, _guard) in enumerate(contexts):
        if failed:
            page.screenshot(path=str(artifacts_dir() / f"FAILED-{request.node.name}-{i}.png"), full_page=True)
        context.close()
    if not failed:
        for _, _, guard in contexts:
            guard.check()


def screenshot(page, name: str) -> Path:
    path = artifacts_dir() / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_ready(page) -> None:
    """A cabinet page sets body[data-ready] once its first API calls have finished (or failed)."""
    page.wait_for_selector("body[data-ready=true]")


def log_in(
    page, username: str = DEMO_USER, password: str | None = None, next_path: str | None = None
) -> None:
    from tests.api.world import PASSWORD

    page.goto(f"/cabinet/login?next={next_path}" if next_path else "/cabinet/login")
    page.fill("#username", username)
    page.fill("#password", password or PASSWORD)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    wait_ready(page)
