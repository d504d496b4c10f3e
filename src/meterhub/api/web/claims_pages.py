"""Staff pages of the legal department (юридический отдел) under ``/cabinet/claims/``: debtors and batch
preparation of applications, a debtor's card with the debt history and the case timeline, a case with its
steps, court documents uploaded and money under the court act.

Same stack as the passport office pages (Jinja2 shells in Russian, one ES module per page, data from the
JSON API ``/api/v1/claims``, which allows the ``lawyer`` and ``admin`` roles only), so a page never shows
data the API would not give the same user.
"""

from __future__ import annotations

from meterhub.api.web.pages import CABINET_PREFIX, Page
from meterhub.api.web.staff_pages import staff_router

CLAIMS_PREFIX = CABINET_PREFIX + "/claims"

CLAIMS_PAGES: tuple[Page, ...] = (
    Page("claims_debtors", "/", "Должники и подготовка заявлений", "Должники"),
    Page("claims_cases", "/cases", "Дела", "Дела"),
    Page("claims_debtor", "/debtor", "Карточка должника", ""),
    Page("claims_case", "/case", "Дело", ""),
)

router = staff_router(CLAIMS_PREFIX, CLAIMS_PAGES, "claims_prefix")
