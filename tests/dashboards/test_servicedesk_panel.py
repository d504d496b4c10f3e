"""The service desk panel's figures, expanded as Grafana expands them, against the three January requests
of the sample building (tests/dashboards/conftest.py): counted by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from meterhub.dashboards.macros import expand
from meterhub.dashboards.servicedesk import BY_CHANNEL, OVERDUE_NOW
from meterhub.timeseries.database import connect

pytestmark = [pytest.mark.db]


def test_share_on_time_by_channel(sample_db: str, month_context) -> None:
    with connect(sample_db) as conn:
        rows = conn.execute(expand(BY_CHANNEL.sql, month_context)).fetchall()
        (overdue,) = conn.execute(expand(OVERDUE_NOW.sql, month_context)).fetchone()
    by = {r[0]: r[1:6] for r in rows}
    # phone: a fault resolved after 3 h (deadline 120 working h) → 1 of 1 on time;
    # e-mail: a billing claim resolved after 14 days (deadline 72 working h = 8 working days) → late;
    # walk-in: an emergency still open, 72 calendar h long past → overdue.
    assert by == {
        "phone": (1, 1, 1, Decimal("100.0"), 0),
        "email": (1, 1, 0, Decimal("0.0"), 0),
        "walk_in": (1, 0, 0, None, 1),
    }
    assert overdue == 1
