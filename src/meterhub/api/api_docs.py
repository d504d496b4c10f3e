"""The interactive API docs (Swagger UI) and the OpenAPI description, served from the Python package
(``swagger-ui-bundle-v2``), never from a CDN. In production both are for logged-in staff only: residents
and strangers get 404, so the server does not advertise its surface. They are plain Starlette routes
(no API operation of their own)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from meterhub.api.deps import SESSION_COOKIE
from meterhub.api.roles import Role
from meterhub.api.sessions import lookup
from meterhub.api.users_store import load_user
from meterhub.core.settings import Environment

__all__ = ["mount_api_docs"]


def _is_staff_session(request: Request) -> bool:
    token = request.cookies.get(SESSION_COOKIE, "")
    pool = getattr(request.app.state, "pool", None)
    if not token or pool is None:
        return False
    with pool.connection() as conn:
        row = lookup(conn, token, "session")
        user = load_user(conn, row.user_id, "cookie") if row else None
    return user is not None and user.role is not Role.RESIDENT


async def _docs_allowed(request: Request) -> bool:
    """Development: open. Production: a staff member's live cabinet session."""
    if request.app.state.settings.env != Environment.PRODUCTION:
        return True
    return await run_in_threadpool(_is_staff_session, request)


def mount_api_docs(app: FastAPI, prefix: str) -> None:
    """``{prefix}/openapi.json``, ``{prefix}/docs`` and its assets at ``{prefix}/docs/assets``."""
    from swagger_ui_bundle import swagger_ui_path

    def not_found() -> Response:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    async def openapi(request: Request) -> Response:
        return JSONResponse(app.openapi()) if await _docs_allowed(request) else not_found()

    async def docs(request: Request) -> Response:
        if not await _docs_allowed(request):
            return not_found()
        return get_swagger_ui_html(
            openapi_url=f"{prefix}/openapi.json",
            title=f"{app.title} — docs",
            oauth2_redirect_url=f"{prefix}/docs/oauth2-redirect",
            swagger_js_url=f"{prefix}/docs/assets/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/docs/assets/swagger-ui.css",
            swagger_favicon_url=f"{prefix}/docs/assets/favicon-32x32.png",
        )

    async def oauth2_redirect(request: Request) -> Response:
        return get_swagger_ui_oauth2_redirect_html() if await _docs_allowed(request) else not_found()

    app.add_route(f"{prefix}/openapi.json", openapi, include_in_schema=False)
    app.add_route(f"{prefix}/docs", docs, include_in_schema=False)
    app.add_route(f"{prefix}/docs/oauth2-redirect", oauth2_redirect, include_in_schema=False)
    app.mount(f"{prefix}/docs/assets", StaticFiles(directory=str(swagger_ui_path)), name="swagger-assets")
