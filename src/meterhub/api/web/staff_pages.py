"""The shared shape of a staff section's pages under ``/cabinet/<section>/`` (passport office, service
desk, legal department): a Jinja2 shell per page with the section's navigation, a redirect to the login
with the way back when there is no session cookie (whether the session is valid is the API's business,
checked by the page's module), and the section's root without the slash redirected to it."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterhub.api.web.pages import CABINET_PREFIX, PAGE_HEADERS, SESSION_COOKIE, Page, _render

__all__ = ["staff_router"]


def staff_router(prefix: str, pages: Sequence[Page], prefix_key: str) -> APIRouter:
    """The router of ``pages`` under ``prefix``; templates get ``prefix`` as ``prefix_key``."""
    router = APIRouter(include_in_schema=False)
    nav = [p for p in pages if p.nav_label]

    def handler_of(page: Page):
        def handler(request: Request) -> Response:
            if SESSION_COOKIE not in request.cookies:
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                login = f"{CABINET_PREFIX}/login?next={quote(here, safe='')}"
                return RedirectResponse(login, status_code=303, headers=PAGE_HEADERS)
            context = {"title": page.title, "page": page, "staff_nav": nav, prefix_key: prefix}
            return _render(request, f"{page.name}.html", context)

        handler.__name__ = page.name
        return handler

    def without_slash() -> RedirectResponse:
        return RedirectResponse(prefix + "/", status_code=307)

    router.add_api_route(prefix, without_slash, methods=["GET"], response_class=RedirectResponse)
    for page in pages:
        router.add_api_route(
            prefix + page.path,
            handler_of(page),
            methods=["GET"],
            response_class=HTMLResponse,
            name=page.name,
        )
    return router
