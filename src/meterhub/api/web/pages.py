"""Page routes of the cabinet: ``/cabinet/...`` HTML shells and ``/cabinet/static/...`` assets.

A page is a thin layout: navigation, headings, empty containers and forms. Its script (one ES module
per page under ``static/pages/``) loads the data from the JSON API, so access rules live in one place
(the API) and a page never holds data the API would not give the same user.

A request without the session cookie is redirected to the login page before any HTML is sent; an
expired or revoked session is caught by the first API call (401), which sends the browser to the login
page as well.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

CABINET_PREFIX = "/cabinet"
SESSION_COOKIE = "mh_session"

# Pages are same-origin only: no CDN, no inline script, no framing. `data:` and `blob:` images are the
# photo preview of a request (заявка) before it is uploaded.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class Page:
    """One page of the cabinet: its path under the prefix, template and title in the navigation."""

    name: str
    path: str
    title: str
    nav_label: str


PAGES: tuple[Page, ...] = (
    Page("overview", "/", "Мой лицевой счёт", "Главная"),
    Page("consumption", "/consumption", "Потребление", "Потребление"),
    Page("readings", "/readings", "Передать показания", "Показания"),
    Page("receipts", "/receipts", "Квитанции", "Квитанции"),
    Page("house", "/house", "Показатели дома", "Дом"),
    Page("advice", "/advice", "Выбор тарифа", "Тарифы"),
    Page("requests", "/requests", "Заявки и обращения", "Заявки"),
    Page("household", "/household", "Зарегистрированные в помещении", "Жильцы"),
    Page("profile", "/profile", "Профиль и безопасность", "Профиль"),
)

_STATIC_PACKAGE = ("meterhub.api.web", "static")


@lru_cache(maxsize=256)
def _asset_version(name: str) -> str:
    """Short content hash of a bundled asset, appended as ``?v=`` so browsers never run stale code."""
    data = resources.files(_STATIC_PACKAGE[0]).joinpath(_STATIC_PACKAGE[1], *name.split("/")).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def static_url(name: str) -> str:
    return f"{CABINET_PREFIX}/static/{name}?v={_asset_version(name)}"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("meterhub.api.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(static=static_url, pages=PAGES, prefix=CABINET_PREFIX)
    return env


class CabinetStaticFiles(StaticFiles):
    """Bundled assets. A URL with ``?v=<content hash>`` (what the templates emit) never changes, so
    browsers may keep it for a year; a bare URL is revalidated (ETag) on every use."""

    async def get_response(self, path: str, scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["Cache-Control"] = (
                "public, max-age=31536000, immutable" if versioned else "no-cache"
            )
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


templates = Jinja2Templates(env=_environment())
router = APIRouter(include_in_schema=False)
router.mount(
    f"{CABINET_PREFIX}/static",
    CabinetStaticFiles(packages=[_STATIC_PACKAGE]),
    name="cabinet-static",
)


def _safe_next(target: str | None) -> str:
    """Only same-site paths under the cabinet are followed after login (no open redirect)."""
    if target and target.startswith(CABINET_PREFIX + "/") and not target.startswith("//"):
        return target
    return CABINET_PREFIX + "/"


def _render(request: Request, template: str, context: dict[str, object]) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context)
    response.headers.update(PAGE_HEADERS)
    return response


@router.get("/", response_class=RedirectResponse)
def root() -> RedirectResponse:
    return RedirectResponse(CABINET_PREFIX + "/", status_code=307)


@router.get(CABINET_PREFIX, response_class=RedirectResponse)
def cabinet_without_slash() -> RedirectResponse:
    return RedirectResponse(CABINET_PREFIX + "/", status_code=307)


@router.get(CABINET_PREFIX + "/login", response_class=HTMLResponse)
def login_page(request: Request, next: Annotated[str | None, Query(max_length=2000)] = None) -> Response:
    context = {"title": "Вход", "next_url": _safe_next(next), "page": None, "public": "login"}
    return _render(request, "login.html", context)


@router.get(CABINET_PREFIX + "/recover", response_class=HTMLResponse)
def recover_page(request: Request) -> Response:
    """Public: ask for a reset link by e-mail, or (with ``?token=`` from the letter) set a new password."""
    context = {"title": "Восстановление пароля", "page": None, "public": "recover"}
    return _render(request, "recover.html", context)


@router.get(CABINET_PREFIX + "/confirm-email", response_class=HTMLResponse)
def confirm_email_page(request: Request) -> Response:
    """Public: confirm an e-mail address with ``?token=`` from the letter (a button, so a mail scanner
    that opens links does not confirm it)."""
    context = {"title": "Подтверждение адреса", "page": None, "public": "confirm_email"}
    return _render(request, "confirm_email.html", context)


def _page_handler(page: Page):
    def handler(request: Request) -> Response:
        if SESSION_COOKIE not in request.cookies:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"{CABINET_PREFIX}/login?next={quote(here, safe='')}", status_code=303, headers=PAGE_HEADERS
            )
        return _render(request, f"{page.name}.html", {"title": page.title, "page": page})

    handler.__name__ = f"cabinet_{page.name}"
    return handler


for _page in PAGES:
    router.add_api_route(
        CABINET_PREFIX + _page.path,
        _page_handler(_page),
        methods=["GET"],
        response_class=HTMLResponse,
        name=f"cabinet_{_page.name}",
    )
