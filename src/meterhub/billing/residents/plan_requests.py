"""Requests to change an account's tariff plan (заявление о смене тарифного плана), from the cabinet's
tariff advice to a dated ``tariff_plans`` row.

A resident asks for a scheme (e.g. three-zone electricity) through a cabinet request; staff approve it
by finishing the request. Approval writes the account's plan **from the first day of the next period**:
the month after the approval day (building local time), and never inside a closed period (billing-rules.md
decision 11 — a plan change never re-bills a closed month). Rejection only marks the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.close.repository import tariffs_between
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariff_plans import priced_schemes
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.zones import ZoneScheme

__all__ = [
    "SCHEME_NAMES_RU",
    "PlanRequest",
    "PlanRequestError",
    "decide_plan_request",
    "file_plan_request",
    "plan_effective_from",
]

SCHEME_NAMES_RU = {
    ZoneScheme.SINGLE_RATE: "одноставочный",
    ZoneScheme.TWO_ZONE: "двухзонный (день/ночь)",
    ZoneScheme.THREE_ZONE: "трёхзонный (пик/полупик/ночь)",
}


class PlanRequestError(ValueError):
    """The plan cannot be requested (the message says why, in words a resident reads)."""


@dataclass(frozen=True)
class PlanRequest:
    request_id: int
    account_no: str
    service: str
    scheme: ZoneScheme
    status: str
    effective_from: date | None


def plan_effective_from(conn: psycopg.Connection, building_id: str, now: datetime) -> date:
    """The first day of the period after the one containing ``now`` (building local time), and not
    before the first day after the building's latest closed period."""
    zone = conn.execute("SELECT time_zone FROM buildings WHERE building_id = %s", (building_id,)).fetchone()
    today = now.astimezone(ZoneInfo(zone[0])).date() if zone else now.date()
    effective = BillingPeriod(today.year, today.month).next().first_day
    row = conn.execute(
        "SELECT max(period) FROM billing_periods WHERE building_id = %s AND status = 'closed'", (building_id,)
    ).fetchone()
    if row is not None and row[0] is not None:
        effective = max(effective, BillingPeriod.parse(row[0]).next().first_day)
    return effective


def file_plan_request(
    conn: psycopg.Connection,
    request_id: int,
    account_no: str,
    service: str,
    scheme: ZoneScheme,
    now: datetime,
) -> date:
    """Record the plan asked for by request ``request_id``; returns the day it would apply from.
    Raises :class:`PlanRequestError` when the scheme is not priced for the account's building from the
    next period on."""
    row = conn.execute("SELECT building_id FROM accounts WHERE account_no = %s", (account_no,)).fetchone()
    if row is None:
        raise PlanRequestError(f"лицевой счёт {account_no} не найден")
    if service not in {s.value for s in Service}:
        raise PlanRequestError(f"unknown service {service}")
    effective = plan_effective_from(conn, row[0], now)
    month_end = BillingPeriod(effective.year, effective.month).end_day
    priced = priced_schemes(tariffs_between(conn, row[0], effective, month_end), Service(service))
    if scheme not in priced:
        offered = ", ".join(SCHEME_NAMES_RU[s] for s in ZoneScheme if s in priced) or "нет тарифов"
        raise PlanRequestError(
            f"тариф «{SCHEME_NAMES_RU[scheme]}» не утверждён для дома с {effective:%d.%m.%Y}; "
            f"доступны: {offered}"
        )
    conn.execute(
        "INSERT INTO tariff_plan_requests (request_id, account_no, service, scheme) VALUES (%s, %s, %s, %s)",
        (request_id, account_no, service, scheme.value),
    )
    return effective


def decide_plan_request(
    conn: psycopg.Connection, request_id: int, approved: bool, now: datetime
) -> str | None:
    """Approve (write the plan from the next period) or reject a pending plan request (a rejected one
    reopened may still be approved); reopening an approved one does not undo the plan (a new dated row
    does). Returns a note for the resident, or None when nothing was written."""
    row = conn.execute(
        "SELECT r.account_no, r.service, r.scheme, a.building_id FROM tariff_plan_requests r "
        "JOIN accounts a USING (account_no) WHERE r.request_id = %s AND r.status = ANY(%s) "
        "FOR UPDATE OF r",
        # a rejected request reopened and then approved is approved; a decided one is rejected no more
        (request_id, ["pending", "rejected"] if approved else ["pending"]),
    ).fetchone()
    if row is None:
        return None
    account_no, service, scheme, building_id = row
    if not approved:
        conn.execute(
            "UPDATE tariff_plan_requests SET status = 'rejected', decided_at = now() WHERE request_id = %s",
            (request_id,),
        )
        return None
    effective = plan_effective_from(conn, building_id, now)
    conn.execute(
        "INSERT INTO tariff_plans (building_id, account_no, service, valid_from, scheme, source) "
        "VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (building_id, account_no, meter_id, service, valid_from) "
        "DO UPDATE SET scheme = EXCLUDED.scheme, zone_schedule = NULL, source = EXCLUDED.source",
        (building_id, account_no, service, effective, scheme, f"request {request_id}"),
    )
    conn.execute(
        "UPDATE tariff_plan_requests SET status = 'approved', decided_at = now(), effective_from = %s "
        "WHERE request_id = %s",
        (effective, request_id),
    )
    return f"Тарифный план «{SCHEME_NAMES_RU[ZoneScheme(scheme)]}» действует с {effective:%d.%m.%Y}."
