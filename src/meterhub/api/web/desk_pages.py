"""Staff pages of the service desk (обращения) under ``/cabinet/desk/``: the operator's intake with the
account lookup, the queue, a request's card, the overdue/at-risk list and the reports; a contractor gets
the queue, the card and the control list of its own executor.

Same stack as the cabinet and the passport office pages (Jinja2 shells in Russian, one ES module per page,
data from ``/api/v1/servicedesk``), so a page never shows what the API would not give the same user.
"""

from __future__ import annotations

from meterhub.api.web.pages import CABINET_PREFIX, Page
from meterhub.api.web.staff_pages import staff_router

DESK_PREFIX = CABINET_PREFIX + "/desk"

DESK_PAGES: tuple[Page, ...] = (
    Page("desk_intake", "/", "Регистрация обращения", "Приём"),
    Page("desk_queue", "/queue", "Очередь обращений", "Очередь"),
    Page("desk_request", "/request", "Обращение", ""),
    Page("desk_control", "/control", "Контроль сроков", "Контроль"),
    Page("desk_reports", "/reports", "Отчёты", "Отчёты"),
)

router = staff_router(DESK_PREFIX, DESK_PAGES, "desk_prefix")
