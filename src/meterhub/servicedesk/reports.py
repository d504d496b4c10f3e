"""Control of requests (контроль исполнения): the overdue and at-risk lists and the report of requests by
category, channel, building or executor with the share resolved on time. ``now`` is injected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg

from meterhub.servicedesk.deadlines import AT_RISK_SHARE, DeadlineState, deadline_state

__all__ = ["REPORT_DIMENSIONS", "ControlRow", "ReportRow", "control_list", "requests_report"]

REPORT_DIMENSIONS = {
    "category": "COALESCE(c.name_ru, r.sd_category)",
    "channel": "r.channel",
    "building": "r.building_id",
    "executor": "COALESCE(x.name, 'не назначен')",
}


@dataclass(frozen=True)
class ControlRow:
    request_id: int
    state: DeadlineState
    category: str
    building_id: str
    account_no: str | None
    executor: str | None
    registered_at: datetime
    resolution_due: datetime
    escalation_level: int
    text: str


def control_list(
    conn: psycopg.Connection, now: datetime, *, executor_id: int | None = None
) -> list[ControlRow]:
    """Open requests overdue or at risk of being late, most urgent first (optionally one executor's)."""
    sql = (
        "SELECT r.request_id, r.created_at, r.resolution_due_at, COALESCE(c.name_ru, r.sd_category),"
        " r.building_id, r.account_no, x.name, r.escalation_level, r.text"
        " FROM api_requests r LEFT JOIN sd_categories c ON c.category = r.sd_category"
        " LEFT JOIN sd_executors x ON x.executor_id = r.executor_id"
        " WHERE r.status IN ('new', 'in_progress') AND r.resolution_due_at IS NOT NULL"
        # at risk needs due − now < share × (due − created), i.e. now > due − share × window
        " AND %(now)s > r.resolution_due_at - %(share)s * (r.resolution_due_at - r.created_at)"
    )
    params: dict = {"now": now, "share": AT_RISK_SHARE}
    if executor_id is not None:
        sql += " AND r.executor_id = %(executor)s"
        params["executor"] = executor_id
    rows = []
    for rid, created, due, cat, building, account, executor, level, text in conn.execute(
        sql + " ORDER BY r.resolution_due_at, r.request_id", params
    ):
        state = deadline_state(created, due, now)
        if state is not DeadlineState.ON_TIME:
            rows.append(ControlRow(rid, state, cat, building, account, executor, created, due, level, text))
    return rows


@dataclass(frozen=True)
class ReportRow:
    key: str
    registered: int
    open: int
    resolved: int
    resolved_on_time: int
    overdue_open: int
    average_rating: Decimal | None

    @property
    def share_on_time(self) -> Decimal | None:
        """Resolved on time ÷ resolved [%], one decimal; None when nothing was resolved."""
        if not self.resolved:
            return None
        return (Decimal(100) * self.resolved_on_time / self.resolved).quantize(Decimal("0.1"), ROUND_HALF_UP)


def requests_report(
    conn: psycopg.Connection, by: str, start: datetime, end: datetime, now: datetime
) -> list[ReportRow]:
    """Requests registered in ``[start, end)`` grouped ``by`` category, channel, building or executor."""
    if by not in REPORT_DIMENSIONS:
        raise ValueError(f"report by one of {sorted(REPORT_DIMENSIONS)}, not {by!r}")
    sql = f"""
SELECT {REPORT_DIMENSIONS[by]} AS key,
       count(*),
       count(*) FILTER (WHERE r.status IN ('new', 'in_progress')),
       count(*) FILTER (WHERE r.resolved_at IS NOT NULL),
       count(*) FILTER (WHERE r.resolved_at IS NOT NULL AND r.resolved_at <= r.resolution_due_at),
       count(*) FILTER (WHERE r.status IN ('new', 'in_progress') AND r.resolution_due_at < %(now)s),
       round(avg(r.rating), 2)
  FROM api_requests r
  LEFT JOIN sd_categories c ON c.category = r.sd_category
  LEFT JOIN sd_executors x ON x.executor_id = r.executor_id
 WHERE r.created_at >= %(start)s AND r.created_at < %(end)s
 GROUP BY 1 ORDER BY 1"""
    return [
        ReportRow(key, *(int(v) for v in counts), avg)
        for key, *counts, avg in conn.execute(sql, {"start": start, "end": end, "now": now})
    ]
