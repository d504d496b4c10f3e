"""Staff page of account access (доступ к лицевым счетам) under ``/cabinet/links/``: the users linked to
an account, revoking a link with a reason (audited, the resident is notified, the codes printed so far
die), revoking the codes alone, and the account's link history.

Same stack as the other staff sections (a Jinja2 shell in Russian, one ES module, data from
``/api/v1/accounts/{account_no}/links`` and ``…/link-history``, which allow the ``accountant`` and ``admin``
roles only), so the page never shows what the API would not give the same user.
"""

from __future__ import annotations

from meterhub.api.web.pages import CABINET_PREFIX, Page
from meterhub.api.web.staff_pages import staff_router

LINKS_PREFIX = CABINET_PREFIX + "/links"

LINKS_PAGES: tuple[Page, ...] = (Page("staff_links", "/", "Пользователи лицевого счёта", "Лицевой счёт"),)

router = staff_router(LINKS_PREFIX, LINKS_PAGES, "links_prefix")
