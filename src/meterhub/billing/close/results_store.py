"""Period results in the database: status, volumes, charge lines, common property, recalculations, reports.

A period of a building is ``draft`` (its results may be replaced) or ``closed`` (immutable: every write
function refuses it). The close calls these inside its one transaction per building.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from meterhub.billing.close.copy_rows import charge_lines_text, period_volumes_text
from meterhub.billing.rules.building import BuildingCharges
from meterhub.billing.rules.charges import ChargeKind, ChargeLine
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.recalculation import RecalculationLine
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.true_up import AveragedCharge
from meterhub.billing.rules.zones import Zone

__all__ = [
    "ClosedPeriodError",
    "MeterHistory",
    "averaged_charges",
    "booked_corrections",
    "closed_periods",
    "common_property_history",
    "lock_period",
    "mark_closed",
    "read_charge_lines",
    "replace_draft_results",
    "stored_input_digest",
    "volume_history",
]

CorrectionKey = tuple[str, str, str, str, date]  # account, service, kind, zone, part_start

_LINE_COLUMNS = (
    "building_id, period, account_no, service, kind, zone, part_start, part_end, volume, unit, tariff, "
    "coefficient, method, formula, amount_exact, amount, amount_without_coefficient, excess, note"
)
_VOLUME_COLUMNS = (
    "building_id, period, account_no, service, zone, volume, method, formula, persons, normative, "
    "coefficient, average_months, note"
)
_RECALC_COLUMNS = (
    "building_id, period, corrects_period, account_no, service, kind, zone, part_start, volume_delta, "
    "amount_exact_delta, amount, method_before, method_after, reason, source"
)
# The charge lines and volume rows (≈ 3,150 and ≈ 1,750 a 350-flat building) are written as one COPY text
# each, built by :mod:`.copy_rows` (≈ 17 → 11 ms of client CPU a building against ``write_row`` per row).
# The few recalculation lines keep ``write_row`` with the column types set (one dumper per column). Text
# format on purpose: binary COPY (psycopg's numeric binary dumper) was measured slower on the client
# (≈ 31 vs 22 ms a 350-flat building) and no cheaper on the server, where the time goes to the two
# indexes and the WAL, not to parsing.
_RECALC_TYPES = [*("text",) * 7, "date", *("numeric",) * 3, *("text",) * 4]


class ClosedPeriodError(RuntimeError):
    """The period is closed; its results cannot be rewritten (book a recalculation in an open period)."""


def lock_period(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> str:
    """Create the period as ``draft`` if missing, lock its row for this transaction, return its status."""
    conn.execute(
        "INSERT INTO billing_periods (building_id, period, status, computed_at) "
        "VALUES (%s, %s, 'draft', now()) ON CONFLICT (building_id, period) DO NOTHING",
        (building_id, str(period)),
    )
    row = conn.execute(
        "SELECT status FROM billing_periods WHERE building_id = %s AND period = %s FOR UPDATE",
        (building_id, str(period)),
    ).fetchone()
    assert row is not None
    return str(row[0])


def replace_draft_results(
    conn: psycopg.Connection,
    charges: BuildingCharges,
    recalculations: Sequence[RecalculationLine],
    report: Mapping[str, Any],
    input_digest: str | None = None,
    *,
    input_snapshot: str | None = None,
    inputs_from: datetime | None = None,
    inputs_to: datetime | None = None,
) -> None:
    """Replace the draft period's rows with these results (call after :func:`lock_period`).

    ``input_digest``, ``input_snapshot`` and ``inputs_from``/``inputs_to`` record what the results were
    computed from (the exact and the cheap check of :mod:`meterhub.billing.close.input_changes`)."""
    building, period = charges.building, str(charges.period)
    status = lock_period(conn, building, charges.period)
    if status == "closed":
        raise ClosedPeriodError(
            f"building {building}: period {period} is closed and immutable; later changes are booked as "
            f"recalculations in the next open period ({charges.period.next()})"
        )
    for table in (
        "charge_lines",
        "period_volumes",
        "period_common_property",
        "recalculation_lines",
        "close_reports",
    ):
        conn.execute(f"DELETE FROM {table} WHERE building_id = %s AND period = %s", (building, period))
    with conn.cursor().copy(f"COPY charge_lines ({_LINE_COLUMNS}) FROM STDIN") as copy:
        copy.write(charge_lines_text(building, charges.lines))
    with conn.cursor().copy(f"COPY period_volumes ({_VOLUME_COLUMNS}) FROM STDIN") as copy:
        copy.write(period_volumes_text(building, period, charges.accounts))
    with conn.cursor().copy(f"COPY recalculation_lines ({_RECALC_COLUMNS}) FROM STDIN") as copy:
        copy.set_types(_RECALC_TYPES)
        for r in recalculations:
            copy.write_row(
                (
                    building,
                    period,
                    str(r.corrects_period),
                    r.account,
                    r.service.value,
                    r.kind.value,
                    r.zone.value,
                    r.part_start,
                    r.volume_delta,
                    r.amount_exact_delta,
                    r.amount,
                    r.method_before,
                    r.method_after,
                    r.reason,
                    r.source,
                )
            )
    for cp in charges.common_property:
        h = cp.house
        conn.execute(
            "INSERT INTO period_common_property (building_id, period, service, method_requested, method,"
            " formula, house_volume, individual_total, difference, normative_volume, distributed, excess,"
            " excess_cost, negative) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                building,
                period,
                h.service.value,
                h.method_requested.value,
                h.method.value,
                h.formula,
                h.house_volume,
                h.individual_total,
                h.difference,
                h.normative_volume,
                h.distributed,
                h.excess,
                cp.excess_cost,
                h.negative,
            ),
        )
    conn.execute(
        "INSERT INTO close_reports (building_id, period, report) VALUES (%s, %s, %s::jsonb)",
        (building, period, json.dumps(report, ensure_ascii=False, default=str)),
    )
    conn.execute(
        "UPDATE billing_periods SET computed_at = now(), input_digest = %s, "
        "input_snapshot = %s::pg_snapshot, inputs_from = %s, inputs_to = %s "
        "WHERE building_id = %s AND period = %s",
        (input_digest, input_snapshot, inputs_from, inputs_to, building, period),
    )


def stored_input_digest(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> str | None:
    """The digest of the engine input the period's stored results were computed from."""
    row = conn.execute(
        "SELECT input_digest FROM billing_periods WHERE building_id = %s AND period = %s",
        (building_id, str(period)),
    ).fetchone()
    return row[0] if row else None


def mark_closed(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> None:
    """Freeze the period (after its results are written in the same transaction)."""
    conn.execute(
        "UPDATE billing_periods SET status = 'closed', closed_at = now() "
        "WHERE building_id = %s AND period = %s",
        (building_id, str(period)),
    )


def closed_periods(
    conn: psycopg.Connection, building_id: str, before: BillingPeriod, limit: int
) -> list[BillingPeriod]:
    """The building's closed periods before ``before``, newest first, at most ``limit``."""
    rows = conn.execute(
        "SELECT period FROM billing_periods WHERE building_id = %s AND status = 'closed' AND period < %s "
        "ORDER BY period DESC LIMIT %s",
        (building_id, str(before), limit),
    ).fetchall()
    return [BillingPeriod.parse(r[0]) for r in rows]


def read_charge_lines(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[ChargeLine]:
    """The stored lines of a period as engine :class:`ChargeLine` objects (heating lines, written by
    :mod:`meterhub.billing.close.heating.step`, are not engine lines and are left out)."""
    rows = conn.execute(
        "SELECT account_no, service, kind, zone, volume, unit, tariff, method, formula, amount_exact, "
        "amount, part_start, part_end, coefficient, amount_without_coefficient, excess, note "
        "FROM charge_lines "
        "WHERE building_id = %s AND period = %s AND service <> 'heat' "  # heating: billing/heating
        "ORDER BY account_no, service, kind, part_start, zone",
        (building_id, str(period)),
    ).fetchall()
    return [
        ChargeLine(
            account=a,
            period=period,
            service=Service(s),
            kind=ChargeKind(k),
            zone=Zone(z),
            volume=v,
            unit=u,
            tariff=t,
            method=m,
            formula=f,
            amount_exact=ex,
            amount=am,
            part_start=ps,
            part_end=pe,
            coefficient=c,
            amount_without_coefficient=w,
            excess=e,
            note=n,
        )
        for a, s, k, z, v, u, t, m, f, ex, am, ps, pe, c, w, e, n in rows
    ]


def booked_corrections(
    conn: psycopg.Connection, building_id: str, corrects: BillingPeriod, *, excluding: BillingPeriod
) -> dict[CorrectionKey, tuple[Decimal, Decimal, Decimal]]:
    """Σ (amount, volume, exact amount) of recheck corrections of ``corrects`` booked in other periods
    (п. 61 true-up lines are not corrections of the period's inputs and are left out)."""
    rows = conn.execute(
        "SELECT account_no, service, kind, zone, part_start, sum(amount), sum(volume_delta), "
        "sum(amount_exact_delta) "
        "FROM recalculation_lines WHERE building_id = %s AND corrects_period = %s AND period <> %s "
        "AND source = 'recheck' GROUP BY 1, 2, 3, 4, 5",
        (building_id, str(corrects), str(excluding)),
    ).fetchall()
    return {(a, s, k, z, p): (amt, vol, ex) for a, s, k, z, p, amt, vol, ex in rows}


_WITHOUT_READINGS = frozenset({"average", "normative", "normative_x1_5"})
"""Methods of a period billed without a valid reading of the service's meter."""


@dataclass(frozen=True)
class MeterHistory:
    """An account × service's previous closed periods: metered zone volumes (oldest first), the number of
    immediately preceding periods billed by average (the п. 61 true-up run) and the number billed without a
    valid reading at all (average, then the normative after the limit: the п. 59 averaging count, which a
    normative month never restarts — Decision 8)."""

    metered: tuple[dict[Zone, Decimal], ...]
    consecutive_average: int
    without_readings: int = 0


def volume_history(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, months: int = 12
) -> dict[tuple[str, str], MeterHistory]:
    """(account, service) → :class:`MeterHistory` from the closed periods of the last ``months`` months.

    A month's method is its latest line's (a month split by a meter state inside it, ПП 354 п. 59 «а»,
    follows the state it ends in). Metered months come from the individual charge lines (Σ over tariff
    parts per zone), so an hourly meter's history is per tariff zone like a multi-register meter's
    (decision 6: averages per zone).
    Months before the building's cutover come from the legacy system's meter history
    (``legacy_account_volumes``, docs/migration.md), with the method it billed them by.

    One row per account × service (docs/billing-close.md "The averaging history read"): its months as
    ``period || method`` in period order, and its metered months' zone volumes as text (``zone:volume``
    by zone, months by period), parsed here (``Decimal`` of the numeric's text, as psycopg loads it).
    A month's method is its first zone's (by zone name) — the zones of one month end in the same state.
    """
    previous, p = [], period
    for _ in range(months):
        p = p.previous()
        previous.append(str(p))
    first = previous[-1] if previous else str(period)
    rows = conn.execute(_HISTORY_SQL, {"b": building_id, "first": first, "p": str(period)}).fetchall()
    result: dict[tuple[str, str], MeterHistory] = {}
    zones = _ZONE_OF
    for account, service, months_text, metered_text in rows:
        metered = (
            tuple(
                {zones[z]: Decimal(v) for z, _, v in (pair.partition(":") for pair in month.split(" "))}
                for month in metered_text.split("|")
            )
            if metered_text is not None
            else ()
        )
        seen = months_text.split(" ")
        result[account, service] = MeterHistory(
            metered,
            _consecutive_tail(seen, previous, _AVERAGE),
            _consecutive_tail(seen, previous, _WITHOUT_READINGS),
        )
    return result


_ZONE_OF = {z.value: z for z in Zone}
_AVERAGE = frozenset({"average"})
# Per zone as before (the method of the latest part, Σ volume), then per month (zones in order, the
# method of the first), then per account × service (months in order). Each level's ordered aggregates
# share one ORDER BY, so PostgreSQL sorts each level's input once instead of every group on its own.
_HISTORY_SQL = """
    WITH zone_rows AS (
        SELECT c.account_no, c.service, c.period, c.zone,
               (array_agg(c.method ORDER BY c.part_start DESC, c.method))[1] AS method,
               sum(c.volume) AS volume
        FROM charge_lines c JOIN billing_periods p USING (building_id, period)
        WHERE c.building_id = %(b)s AND p.status = 'closed' AND c.period >= %(first)s AND c.period < %(p)s
          AND c.kind = 'individual' AND c.service <> 'maintenance'
        GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT account_no, service, period, zone, min(method), sum(volume) FROM legacy_account_volumes
        WHERE building_id = %(b)s AND period >= %(first)s AND period < %(p)s
        GROUP BY 1, 2, 3, 4
    ), month_rows AS (
        SELECT account_no, service, period, (array_agg(method ORDER BY zone))[1] AS method,
               string_agg(zone || ':' || volume, ' ' ORDER BY zone) AS zones
        FROM zone_rows GROUP BY 1, 2, 3
    )
    SELECT account_no, service, string_agg(period || method, ' ' ORDER BY period),
           string_agg(zones, '|' ORDER BY period) FILTER (WHERE method = 'meter')
    FROM month_rows GROUP BY 1, 2 ORDER BY 1, 2
"""


def _consecutive_tail(months: list[str], previous: list[str], methods: Set[str]) -> int:
    """How many of ``months`` (``period || method``, in period order) immediately before the period
    (``previous``: its preceding periods, latest first) were billed by one of ``methods``."""
    count = 0
    for month in reversed(months):
        if count == len(previous) or month[:7] != previous[count] or month[7:] not in methods:
            break
        count += 1
    return count


def _consecutive(by_period: Mapping[str, tuple[str, Any]], period: BillingPeriod, methods: Set[str]) -> int:
    """How many periods immediately before ``period`` were billed by one of ``methods``."""
    count, p = 0, period.previous()
    while str(p) in by_period and by_period[str(p)][0] in methods:
        count += 1
        p = p.previous()
    return count


def common_property_history(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, months: int = 12
) -> dict[str, tuple[list[Decimal], int]]:
    """service → (house-level ΔV of closed periods oldest first, the averaging count): the count is the
    periods immediately before billed by average or by the normative in place of another requested method
    (the house meter without a valid volume after the limit, п. 59(1)) — a normative month never restarts
    the averaging (Decision 8).

    Months before the building's cutover come from the legacy house history (``legacy_house_volumes``:
    ΔV = house − Σ premises − V^кр, docs/migration.md)."""
    first = period
    for _ in range(months):
        first = first.previous()
    rows = conn.execute(
        """
        SELECT c.service, c.period, c.method, c.method_requested, c.difference
        FROM period_common_property c JOIN billing_periods p USING (building_id, period)
        WHERE c.building_id = %(b)s AND p.status = 'closed' AND c.period >= %(first)s AND c.period < %(p)s
        UNION ALL
        SELECT service, period, method, method, house_volume - individual_total - preparation
        FROM legacy_house_volumes WHERE building_id = %(b)s AND period >= %(first)s AND period < %(p)s
        ORDER BY 1, 2
        """,
        {"b": building_id, "first": str(first), "p": str(period)},
    ).fetchall()
    grouped: dict[str, dict[str, tuple[str, Decimal | None]]] = {}
    for service, p, method, requested, difference in rows:
        fallback = method == "normative" and requested != "normative"
        grouped.setdefault(service, {})[p] = ("average" if fallback else method, difference)
    return {
        service: (
            [d for _, (_, d) in sorted(periods.items()) if d is not None],
            _consecutive(periods, period, {"average"}),
        )
        for service, periods in grouped.items()
    }


def averaged_charges(
    conn: psycopg.Connection, building_id: str, periods: Sequence[BillingPeriod]
) -> dict[tuple[str, str, str], AveragedCharge]:
    """(account, service, period) → the individual volumes charged by average in the closed ``periods``,
    per zone, with the effective price Σ exact amount / Σ volume of the zone (one price even when a
    tariff changed inside the month: the parts' volume-weighted price) [₽/unit]."""
    if not periods:
        return {}
    rows = conn.execute(
        """
        SELECT c.account_no, c.service, c.period, c.zone, sum(c.volume), sum(c.amount_exact)
        FROM charge_lines c JOIN billing_periods p USING (building_id, period)
        WHERE c.building_id = %s AND p.status = 'closed' AND c.period = ANY(%s)
          AND c.kind = 'individual' AND c.method = 'average'
        GROUP BY 1, 2, 3, 4
        """,
        (building_id, [str(p) for p in periods]),
    ).fetchall()
    volumes: dict[tuple[str, str, str], dict[Zone, Decimal]] = {}
    prices: dict[tuple[str, str, str], dict[Zone, Decimal]] = {}
    for account, service, p, zone, volume, exact in rows:
        key = (account, service, p)
        volumes.setdefault(key, {})[Zone(zone)] = volume
        if volume:
            with engine_context():
                prices.setdefault(key, {})[Zone(zone)] = exact / volume
    return {
        key: AveragedCharge(BillingPeriod.parse(key[2]), zones, prices.get(key, {}))
        for key, zones in volumes.items()
    }
