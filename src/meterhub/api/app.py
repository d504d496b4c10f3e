"""The FastAPI application: ``create_app(settings)`` wires routers, the database pool and checks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import psycopg
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from meterhub import __version__
from meterhub.api.api_docs import mount_api_docs
from meterhub.api.caller_cache import AuthChangeListener, CallerCache
from meterhub.api.http_guards import HttpGuards, nul_in_body_handler
from meterhub.api.registry_errors import registry_validation_handler
from meterhub.api.response_cache import ResponseCache
from meterhub.api.security_checks import InsecureSettingsError, production_problems
from meterhub.core.settings import Settings, get_settings

__all__ = ["API_PREFIX", "create_app"]

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"

_DESCRIPTION = """
meterhub API v1: accounts (лицевые счета), charges, payments, receipts, meters and consumption,
requests (заявки), background jobs for staff, engineers' telemetry and user administration.

**Authentication**: the cabinet logs in with `POST /api/v1/auth/login` and gets the HttpOnly session cookie
`mh_session` plus the CSRF cookie `mh_csrf`; every POST/PUT/PATCH/DELETE authenticated by cookie must send
header `X-CSRF-Token` equal to `mh_csrf`. Scripts create a token with `POST /api/v1/auth/tokens` and send
`Authorization: Bearer <token>` (no CSRF needed).

**Money** is a string with two decimals (`"1234.56"`, rubles) and, where useful, integer kopecks —
never floats.

**Errors** are `{"detail": ...}`; validation errors are 422 with the field and what is wrong.
"""


def _open_pool(settings: Settings, url: str):
    from psycopg_pool import ConnectionPool

    return ConnectionPool(
        url,
        min_size=settings.db_pool_max_size,  # all open: deps.get_conn never waits inside getconn
        max_size=settings.db_pool_max_size,
        kwargs={"autocommit": True, "options": "-c timezone=UTC"},
        open=True,
        name="meterhub-api",
    )


def _include_routers(app: FastAPI) -> None:
    from meterhub.api import web
    from meterhub.api.routes import (
        accounts,
        admin,
        auth,
        engineer,
        health,
        jobs,
        links,
        my_email,
        notifications,
        password_reset,
        payment,
        receipts,
        requests,
        tariff_plans,
        telemetry,
        tokens,
    )

    # telemetry: consumption, meters, readings, building charts, tariff advice (docs/api-telemetry.md).
    # First: the router scans its included routers in order, and the cabinet's busiest calls are these
    # (no other router has a path they match; tests/api/test_routes_order.py checks it).
    routers = (
        telemetry,
        health,
        auth,
        tokens,
        password_reset,
        my_email,
        links,
        notifications,
        accounts,
        receipts,
        payment,
        requests,
        tariff_plans,
        jobs,
        engineer,
        admin,
    )
    for module in routers:
        app.include_router(module.router, prefix=API_PREFIX)
    # the resident cabinet pages and their bundled assets, staff's account-access page (docs/cabinet.md)
    from meterhub.api.web import links_pages

    app.include_router(web.router)
    app.include_router(links_pages.router)
    # the passport office (docs/passport-office.md): its API, a resident's household, the staff pages
    from meterhub.api.routes import household, registry, registry_outputs, registry_records
    from meterhub.api.web import registry_pages

    app.include_router(registry.router, prefix=API_PREFIX)
    app.include_router(registry_outputs.router, prefix=API_PREFIX)
    app.include_router(registry_records.router, prefix=API_PREFIX)
    app.include_router(household.router, prefix=API_PREFIX)
    app.include_router(registry_pages.router)
    # the service desk (docs/requests.md): operators and contractors
    from meterhub.api.routes import (
        servicedesk,
        servicedesk_acts,
        servicedesk_announcements,
        servicedesk_letters,
    )
    from meterhub.api.web import desk_pages

    app.include_router(servicedesk.router, prefix=API_PREFIX)
    app.include_router(servicedesk_letters.router, prefix=API_PREFIX)
    app.include_router(servicedesk_acts.router, prefix=API_PREFIX)
    app.include_router(servicedesk_announcements.router, prefix=API_PREFIX)
    app.include_router(desk_pages.router)
    # the legal department (docs/claims.md): court acts in a case reach the exchange's court_decisions
    from meterhub.api.routes import claims
    from meterhub.api.web import claims_pages
    from meterhub.cli.wiring import plug_court_decisions

    plug_court_decisions()
    app.include_router(claims.router, prefix=API_PREFIX)
    app.include_router(claims_pages.router)


def _plug_receipt_identifiers() -> None:
    """Receipts served here print the ГИС ЖКХ identifiers (ЕЛС, ИЖКУ, payment document id) of exchange."""
    from meterhub.billing.receipts import set_state_ids_source
    from meterhub.exchange.gis.identifiers import receipt_state_ids

    set_state_ids_source(receipt_state_ids)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app. Raises InsecureSettingsError in production mode with default secrets.

    Without ``settings.database_url`` the embedded PostgreSQL in ``data_dir/pg`` is started with the app.
    Migrations are not applied here (``meterhub serve`` applies them before starting).
    """
    settings = settings or get_settings()
    problems = production_problems(settings)
    if problems:
        raise InsecureSettingsError("refusing to start in production mode:\n- " + "\n- ".join(problems))
    _plug_receipt_identifiers()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from meterhub.api.jobs_runner import JobRunner
        from meterhub.timeseries.database import database_url

        with database_url(settings) as url:
            app.state.database_url = url
            pool = _open_pool(settings, url)
            pool.wait(timeout=30)
            app.state.pool = pool
            app.state.conn_slots = asyncio.Semaphore(settings.db_pool_max_size)
            app.state.jobs = JobRunner(url)
            # notifications of changed callers and dropped answers (api/caller_cache.py)
            listener = AuthChangeListener(url, app.state.caller_cache, app.state.response_cache)
            listener.start()
            listener.connected.wait(timeout=10)  # until then the caller cache is bypassed
            try:
                yield
            finally:
                listener.stop()
                app.state.jobs.shutdown()
                pool.close()

    app = FastAPI(
        title="meterhub API",
        version=__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        openapi_url=None,  # served by api_docs: from the package, staff-only in production
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.response_cache = ResponseCache(max_entries=16_384)
    app.state.caller_cache = CallerCache(settings.auth_cache_seconds)
    _include_routers(app)
    mount_api_docs(app, API_PREFIX)
    app.add_exception_handler(psycopg.DataError, nul_in_body_handler)
    app.add_exception_handler(RequestValidationError, registry_validation_handler)
    app.add_middleware(
        HttpGuards,
        trusted_proxies=settings.trusted_proxies,
        api_prefix=API_PREFIX,
        after_write=app.state.caller_cache.invalidate,
    )
    return app
