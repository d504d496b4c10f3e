"""The temporary-absence input of the recalculation (временное отсутствие, ПП 354 пп. 86–97): the
consumers' applications (``absence_periods``) and, where the building takes them, the absences the
passport office's register shows (:mod:`meterhub.registry.absences`: a resident registered at the place of
stay in another premise). An application of the account overlapping a register absence stands alone: the
same days are never taken out twice. Kept apart from the recalculation so the close's other code is
untouched by where absences come from.
"""

from __future__ import annotations

from datetime import date

import psycopg

from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["absence_rows"]

_APPLICATIONS = """
SELECT b.account_no, b.departed_on, b.returned_on, b.persons
  FROM absence_periods b JOIN accounts a USING (account_no)
 WHERE a.building_id = %(building)s AND b.departed_on < %(end)s AND b.returned_on > %(start)s
"""


def absence_rows(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod
) -> list[tuple[str, date, date, int]]:
    """``(account, departed_on, returned_on, persons)`` of the absences touching ``period``."""
    params = {"building": building_id, "start": period.first_day, "end": period.end_day}
    rows: list[tuple[str, date, date, int]] = [tuple(r) for r in conn.execute(_APPLICATIONS, params)]  # type: ignore[misc]
    from meterhub.registry.absences import register_absences

    applied: dict[str, list[tuple[date, date]]] = {}
    for account, departed, returned, _ in rows:
        applied.setdefault(account, []).append((departed, returned))
    for a in register_absences(conn, building_id, period.first_day, period.end_day):
        if any(d < a.returned_on and a.departed_on < r for d, r in applied.get(a.account_no, ())):
            continue  # the account's own application covers these days
        rows.append((a.account_no, a.departed_on, a.returned_on, 1))
    return rows
