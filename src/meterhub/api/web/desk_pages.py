"""Staff pages of the service desk (обращения) under ``/cabinet/desk/``: the operator's intake with the
account lookup, the queue, a request's card, the overdue/at-risk list and the reports; a contractor gets
the queue, the card and the control list of its own executor.

Same stack as the cabinet and the passport office pages (Jinja2 shells in Russian, one ES module per page,
data from ``/api/v1/servicedesk``), so a page never shows what the API would not give the same user.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterhub.api.web.pages import CABINET_PREFIX, PAGE_HEADERS, SESSION_COOKIE, Page, _render

DESK_PREFIX = CABINET_PREFIX + "/desk"

DESK_PAGES: tuple[Page, ...] = (
    Page("desk_intake", "/", "Регистрация обращения", "Приём"),
    Page("desk_queue", "/queue", "Очередь обращений", "Очередь"),
    Page("desk_request", "/request", "Обращение", ""),
    Page("desk_control", "/control", "Контроль сроков", "Контроль"),
    Page("desk_reports", "/reports", "Отчёты", "Отчёты"),
)

router = APIRouter(include_in_schema=False)


def _handler(page: Page):
    def handler(request: Request) -> Response:
        if SESSION_COOKIE not in request.cookies:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"{CABINET_PREFIX}/login?next={quote(here, safe='')}", status_code=303, headers=PAGE_HEADERS
            )
        nav = [p for p in DESK_PAGES if p.nav_label]
        context = {"title": page.title, "page": page, "staff_nav": nav, "desk_prefix": DESK_PREFIX}
        return _render(request, f"{page.name}.html", context)

    handler.__name__ = page.name
    return handler


@router.get(DESK_PREFIX, response_class=RedirectResponse)
def desk_without_slash() -> RedirectResponse:
    return RedirectResponse(DESK_PREFIX + "/", status_code=307)


for _page in DESK_PAGES:
    router.add_api_route(
        DESK_PREFIX + _page.path,
        _handler(_page),
        methods=["GET"],
        response_class=HTMLResponse,
        name=_page.name,
    )
