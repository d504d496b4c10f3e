"""Staff pages of the passport office (паспортная служба) under ``/cabinet/registry/``: find a person or a
premise, the registration wizard, a person's card with deregistration, printing forms, lists.

Same stack as the resident cabinet (Jinja2 shells in Russian, one ES module per page, data from the JSON
API ``/api/v1/registry``, which allows the ``passport_office`` role only), so a page never shows data the
API would not give the same user.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterhub.api.web.pages import CABINET_PREFIX, PAGE_HEADERS, SESSION_COOKIE, Page, _render

REGISTRY_PREFIX = CABINET_PREFIX + "/registry"


STAFF_PAGES: tuple[Page, ...] = (
    Page("registry_search", "/", "Паспортная служба: поиск", "Поиск"),
    Page("registry_arrival", "/arrival", "Регистрация гражданина", "Регистрация"),
    Page("registry_person", "/person", "Карточка гражданина", ""),
    Page("registry_print", "/print", "Печать документа", ""),
    Page("registry_lists", "/lists", "Списки и выгрузки", "Списки"),
    Page("registry_orders", "/orders", "Заказы справок", "Заказы справок"),
)

router = APIRouter(include_in_schema=False)


def _handler(page: Page):
    def handler(request: Request) -> Response:
        if SESSION_COOKIE not in request.cookies:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(
                f"{CABINET_PREFIX}/login?next={quote(here, safe='')}", status_code=303, headers=PAGE_HEADERS
            )
        nav = [p for p in STAFF_PAGES if p.nav_label]
        return _render(
            request,
            f"{page.name}.html",
            {"title": page.title, "page": page, "staff_nav": nav, "registry_prefix": REGISTRY_PREFIX},
        )

    handler.__name__ = page.name
    return handler


@router.get(REGISTRY_PREFIX, response_class=RedirectResponse)
def registry_without_slash() -> RedirectResponse:
    return RedirectResponse(REGISTRY_PREFIX + "/", status_code=307)


for _page in STAFF_PAGES:
    router.add_api_route(
        REGISTRY_PREFIX + _page.path,
        _handler(_page),
        methods=["GET"],
        response_class=HTMLResponse,
        name=_page.name,
    )
