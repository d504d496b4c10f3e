"""Staff pages of the legal department (юридический отдел) under ``/cabinet/claims/``: debtors and batch
preparation of applications, a debtor's card with the debt history and the case timeline, a case with its
steps, court documents uploaded and money under the court act.

Same stack as the passport office pages (Jinja2 shells in Russian, one ES module per page, data from the
JSON API ``/api/v1/claims``, which allows the ``lawyer`` and ``admin`` roles only), so a page never shows
data the API would not give the same user.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterhub.api.web.pages import CABINET_PREFIX, PAGE_HEADERS, SESSION_COOKIE, Page, _render

CLAIMS_PREFIX = CABINET_PREFIX + "/claims"

CLAIMS_PAGES: tuple[Page, ...] = (
    Page("claims_debtors", "/", "Должники и подготовка заявлений", "Должники"),
    Page("claims_cases", "/cases", "Дела", "Дела"),
    Page("claims_debtor", "/debtor", "Карточка должника", ""),
    Page("claims_case", "/case", "Дело", ""),
)

router = APIRouter(include_in_schema=False)


def _handler(page: Page):
    def handler(request: Request) -> Response:
        if SESSION_COOKIE not in request.cookies:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"{CABINET_PREFIX}/login?next={quote(here, safe='')}", status_code=303, headers=PAGE_HEADERS
            )
        nav = [p for p in CLAIMS_PAGES if p.nav_label]
        return _render(
            request,
            f"{page.name}.html",
            {"title": page.title, "page": page, "staff_nav": nav, "claims_prefix": CLAIMS_PREFIX},
        )

    handler.__name__ = page.name
    return handler


@router.get(CLAIMS_PREFIX, response_class=RedirectResponse)
def claims_without_slash() -> RedirectResponse:
    return RedirectResponse(CLAIMS_PREFIX + "/", status_code=307)


for _page in CLAIMS_PAGES:
    router.add_api_route(
        CLAIMS_PREFIX + _page.path,
        _handler(_page),
        methods=["GET"],
        response_class=HTMLResponse,
        name=_page.name,
    )
