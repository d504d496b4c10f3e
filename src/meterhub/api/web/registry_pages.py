"""Staff pages of the passport office (паспортная служба) under ``/cabinet/registry/``: find a person or a
premise, the registration wizard, a person's card with deregistration, printing forms, lists.

Same stack as the resident cabinet (Jinja2 shells in Russian, one ES module per page, data from the JSON
API ``/api/v1/registry``, which allows the ``passport_office`` role only), so a page never shows data the
API would not give the same user.
"""

from __future__ import annotations

from meterhub.api.web.pages import CABINET_PREFIX, Page
from meterhub.api.web.staff_pages import staff_router

REGISTRY_PREFIX = CABINET_PREFIX + "/registry"


STAFF_PAGES: tuple[Page, ...] = (
    Page("registry_search", "/", "Паспортная служба: поиск", "Поиск"),
    Page("registry_arrival", "/arrival", "Регистрация гражданина", "Регистрация"),
    Page("registry_person", "/person", "Карточка гражданина", ""),
    Page("registry_print", "/print", "Печать документа", ""),
    Page("registry_lists", "/lists", "Списки и выгрузки", "Списки"),
    Page("registry_orders", "/orders", "Заказы справок", "Заказы справок"),
)

router = staff_router(REGISTRY_PREFIX, STAFF_PAGES, "registry_prefix")
