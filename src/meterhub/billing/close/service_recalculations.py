"""Recalculations (перерасчёты) of the open period for temporary absence and for interruptions / poor quality.

Pure rules first, then :func:`run_service_recalculations` (the close's money step) which reads the
period's charge lines and the recorded events and stores ``service_recalculation_lines`` (one per
account × service × reason, negative = уменьшение) in the period being closed.

**Temporary absence** (временное отсутствие, ПП 354 пп. 86–97, billing-rules §6.1): only services
billed by normative (``normative`` lines, individual consumption) in premises with an act of technical
impossibility of a meter **for that service** in force on the period's last day
(``technical_impossibility_acts``; a premise without act rows keeps ``premises.meter_install_possible``),
the post-2017 condition; switch off
with ``require_impossibility_act=False``); only absences of more than 5 full days in a row; full days
exclude the day of departure and the day of return (п. 90). For each charge line part ``[part_start,
part_end)`` of ``n`` persons::

    ΔP = − amount_exact × Σ_absences persons_away × d_in_part / (n × days_of_part)

summed per account × service and rounded half-up once (billing-rules §6.1 [I]).

Wastewater without its own meter follows its water components (Decision 12): its reduction is the sum of
the eligible cold- and hot-water volume reductions priced at the wastewater tariff of each of its tariff
parts, never with a coefficient::

    ΔP_ww = − Σ_parts T_ww(part) × Σ_eligible components V_c × Σ_absences persons_away × d_in_part / (n_c × D)

(``V_c`` the component's normative volume of the month, ``n_c`` its persons, ``D`` the days of the month).

**Interruptions and poor quality** (ПП 354 раздел IX, Приложение № 1, Decision 4, billing-rules §6.2):
per service the hours of interruption in the period (overlapping events merged, clipped to the period)
count over the permitted monthly total of ``service_quality_limits`` (data) — "исчисленной суммарно за
расчётный период" (Decision 4; :class:`InterruptionHoursRule` keeps the §6.2 alternative reading)::

    excess_h = max(0, Σ t_k − monthly_limit)                                (interruptions)
    excess_h = Σ t_k                                                        (poor quality: no allowance [I])
    ΔP = − min(P, round_half_up(P × percent_per_hour / 100 × excess_h))

where ``P`` is the account's charge for the service in the period (individual lines, rounded amounts).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

import psycopg

from meterhub.billing.close.absence_input import absence_rows
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money, strip_zeros, to_kopecks
from meterhub.billing.rules.volumes import WASTEWATER_FORMULA

__all__ = [
    "MIN_ABSENCE_DAYS",
    "InterruptionHoursRule",
    "ServiceRecalculation",
    "absence_full_days",
    "absence_person_days",
    "excess_hours",
    "merge_intervals",
    "quality_reduction",
    "run_service_recalculations",
]

MIN_ABSENCE_DAYS = 5
"""An absence counts only when longer than this many full days in a row (ПП 354 п. 86)."""
_HOUR = timedelta(hours=1)


def absence_full_days(departed_on: date, returned_on: date, start: date, end: date) -> int:
    """Full days of an absence inside ``[start, end)``: days strictly between departure and return
    (ПП 354 п. 90) that fall in the range [d]."""
    first = max(departed_on + timedelta(days=1), start)
    last_exclusive = min(returned_on, end)
    return max(0, (last_exclusive - first).days)


def merge_intervals(
    intervals: Iterable[tuple[datetime, datetime]], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Clip intervals to ``[start, end)`` and merge overlapping ones (an hour is never counted twice)."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in clipped:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def absence_person_days(
    absences: Iterable[tuple[date, date, int]], persons: Decimal | int, start: date, end: date
) -> int | Decimal:
    """Σ ``min(persons_away, n) × full days`` of the absences ``(departed_on, returned_on, away)`` inside
    ``[start, end)`` [person-days] — never more persons away than the ``n`` the charge counted."""
    return sum(
        (min(away, persons) * absence_full_days(dep, ret, start, end) for dep, ret, away in absences), 0
    )


class InterruptionHoursRule(StrEnum):
    """Which hours of interruption reduce the charge (ПП 354 Приложение № 1)."""

    MONTHLY_TOTAL = "monthly_total"
    """Decision 4 (default): hours over the permitted total of the period, ``max(0, Σt − monthly)``."""
    MAX_OF_LIMITS = "max_of_limits"
    """The §6.2 test-formula reading: ``max(Σt − monthly, Σ max(0, t − single))`` [I]."""


def excess_hours(
    durations: Sequence[Decimal],
    monthly_limit: Decimal,
    single_limit: Decimal | None = None,
    rule: InterruptionHoursRule = InterruptionHoursRule.MONTHLY_TOTAL,
) -> Decimal:
    """Hours over the permitted interruption [h].

    Default (Decision 4): over the monthly total only, ``max(0, Σt − monthly)`` — one 30 h outage with
    8 h/month and 4 h at once permitted gives 22 h. ``InterruptionHoursRule.MAX_OF_LIMITS`` also counts
    hours over the single limit: ``max(Σt − monthly, Σ max(0, t − single))`` (26 h in the same example).
    """
    total = sum(durations, Decimal(0))
    over_total = max(Decimal(0), total - monthly_limit)
    if rule is InterruptionHoursRule.MONTHLY_TOTAL or single_limit is None:
        return over_total
    over_single = sum((max(Decimal(0), t - single_limit) for t in durations), Decimal(0))
    return max(over_total, over_single)


def quality_reduction(charge: Decimal, percent_per_hour: Decimal, hours: Decimal) -> Decimal:
    """The reduction [₽, positive] of a month's charge ``charge`` [₽]: ``min(P, round(P × %/100 × h))``."""
    with engine_context():
        return min(charge, round_money(charge * percent_per_hour / 100 * hours))


@dataclass(frozen=True, slots=True)
class ServiceRecalculation:
    account_no: str
    service: str
    reason_kind: str  # absence / interruption / poor_quality
    basis_kopecks: int
    quantity: Decimal
    amount_exact: Decimal
    amount_kopecks: int
    reason: str
    formula: str


_NORMATIVE_LINES = """
SELECT c.account_no, c.service, c.part_start, c.part_end, c.amount_exact, v.persons, c.volume
  FROM charge_lines c
  JOIN accounts a USING (account_no)
  JOIN premises p ON p.building_id = a.building_id AND p.premise_no = a.premise_no
  JOIN period_volumes v ON v.building_id = c.building_id AND v.period = c.period
       AND v.account_no = c.account_no AND v.service = c.service AND v.zone = c.zone
 WHERE c.building_id = %(building)s AND c.period = %(period)s AND c.kind = 'individual'
   AND c.method = 'normative' AND c.service NOT IN ('heat', 'maintenance')
   AND (NOT %(require_act)s
        OR meter_install_impossible(a.building_id, a.premise_no, c.service, %(end)s::date - 1))
"""
# Wastewater derived from its water components (no own meter: volumes.wastewater_volume's formula).
_DERIVED_WASTEWATER = """
SELECT c.account_no, c.part_start, c.part_end, c.tariff, c.amount_exact
  FROM charge_lines c
  JOIN period_volumes v ON v.building_id = c.building_id AND v.period = c.period
       AND v.account_no = c.account_no AND v.service = c.service AND v.zone = c.zone
 WHERE c.building_id = %(building)s AND c.period = %(period)s AND c.kind = 'individual'
   AND c.service = 'wastewater' AND v.formula = %(derived)s AND c.account_no = ANY(%(accounts)s)
"""
_WATER_COMPONENTS = ("cold_water", "hot_water")
_ABSENCE_REASON = "временное отсутствие потребителей: {days} чел.-дн. (ПП 354 пп. 86–97)"


def _absence(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, require_act: bool
) -> list[ServiceRecalculation]:
    params = {
        "building": building_id,
        "period": str(period),
        "start": period.first_day,
        "end": period.end_day,
        "require_act": require_act,
    }
    absences: dict[str, list[tuple[date, date, int]]] = defaultdict(list)
    for account_no, departed, returned, persons in absence_rows(conn, building_id, period):
        if (returned - departed).days - 1 > MIN_ABSENCE_DAYS:
            absences[account_no].append((departed, returned, persons))
    if not absences:
        return []
    sums: dict[tuple[str, str], list[Decimal]] = {}
    # eligible water components per account: service → [V_c of the month, n_c]
    components: dict[str, dict[str, list[Decimal]]] = defaultdict(dict)
    with engine_context():
        for account_no, service, part_start, part_end, exact, persons, volume in conn.execute(
            _NORMATIVE_LINES, params
        ):
            if account_no not in absences or not persons:
                continue
            if service in _WATER_COMPONENTS:
                component = components[account_no].setdefault(service, [Decimal(0), persons])
                component[0] += volume
            part_days = (part_end - part_start).days
            person_days = absence_person_days(absences[account_no], persons, part_start, part_end)
            if not person_days:
                continue
            acc = sums.setdefault((account_no, service), [Decimal(0), Decimal(0), Decimal(0)])
            acc[0] += exact * person_days / (persons * part_days)
            acc[1] += person_days
            acc[2] += exact
        wastewater = _wastewater_absence(conn, params, period, absences, components)
    result = []
    for (account_no, service), (reduction, person_days, basis) in sorted(sums.items()):
        result.append(
            ServiceRecalculation(
                account_no,
                service,
                "absence",
                to_kopecks(round_money(basis)),
                person_days,
                -reduction,
                -to_kopecks(round_money(reduction)),
                _ABSENCE_REASON.format(days=strip_zeros(Decimal(person_days))),
                "ΔP = −P × Σ(чел. × полные дни) / (n × дни периода)",
            )
        )
    return sorted([*result, *wastewater], key=lambda r: (r.account_no, r.service))


def _wastewater_absence(
    conn: psycopg.Connection,
    params: dict[str, object],
    period: BillingPeriod,
    absences: dict[str, list[tuple[date, date, int]]],
    components: dict[str, dict[str, list[Decimal]]],
) -> list[ServiceRecalculation]:
    """Decision 12: derived wastewater is reduced by Σ of its eligible water components' absent volumes,
    each tariff part at the wastewater price of that part (no coefficient)."""
    eligible = {a: c for a, c in components.items() if c}
    if not eligible:
        return []
    totals: dict[str, list[Decimal]] = {}
    month_days = period.days
    for account_no, part_start, part_end, tariff, exact in conn.execute(
        _DERIVED_WASTEWATER, {**params, "accounts": sorted(eligible), "derived": WASTEWATER_FORMULA}
    ):
        acc = totals.setdefault(account_no, [Decimal(0), Decimal(0), Decimal(0), Decimal(0)])
        acc[2] += exact
        for volume, persons in eligible[account_no].values():
            person_days = absence_person_days(absences[account_no], persons, part_start, part_end)
            if person_days:
                delta_volume = volume * person_days / (persons * month_days)
                acc[0] += delta_volume * tariff
                acc[1] += delta_volume
                acc[3] = max(acc[3], Decimal(person_days))
    result = []
    for account_no, (reduction, volume, basis, person_days) in sorted(totals.items()):
        if not reduction:
            continue
        result.append(
            ServiceRecalculation(
                account_no,
                "wastewater",
                "absence",
                to_kopecks(round_money(basis)),
                person_days,
                -reduction,
                -to_kopecks(round_money(reduction)),
                _ABSENCE_REASON.format(days=strip_zeros(person_days))
                + f"; водоотведение по ХВС и ГВС: {strip_zeros(volume.quantize(Decimal('1e-6')))} м³",
                "ΔP = −T_водоотв × Σ_ХВС,ГВС V × Σ(чел. × полные дни) / (n × дни месяца)",
            )
        )
    return result


_EVENTS = """
SELECT a.account_no, e.service, e.kind, e.started_at, e.ended_at
  FROM service_events e
  JOIN accounts a ON a.building_id = e.building_id AND (e.premise_no IS NULL OR e.premise_no = a.premise_no)
 WHERE e.building_id = %(building)s AND e.started_at < %(end)s AND e.ended_at > %(start)s
"""
_CHARGES = """
SELECT account_no, service, sum(amount) FROM charge_lines
 WHERE building_id = %(building)s AND period = %(period)s AND kind = 'individual'
 GROUP BY account_no, service
"""
_REASONS = {
    "interruption": "перерыв в предоставлении услуги сверх допустимого: {h} ч (ПП 354 Приложение 1)",
    "poor_quality": "услуга ненадлежащего качества: {h} ч (ПП 354 Приложение 1)",
}


def _quality(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, rule: InterruptionHoursRule
) -> list[ServiceRecalculation]:
    zone = conn.execute("SELECT time_zone FROM buildings WHERE building_id = %s", (building_id,)).fetchone()
    if zone is None:
        return []
    start, end = period.bounds_utc(zone[0])
    params = {"building": building_id, "period": str(period), "start": start, "end": end}
    events: dict[tuple[str, str, str], list[tuple[datetime, datetime]]] = defaultdict(list)
    for account_no, service, kind, started, ended in conn.execute(_EVENTS, params):
        events[(account_no, service, kind)].append((started.astimezone(UTC), ended.astimezone(UTC)))
    if not events:
        return []
    limits = {
        service: (Decimal(monthly), None if single is None else Decimal(single), Decimal(percent))
        for service, monthly, single, percent in conn.execute(
            "SELECT service, monthly_hours, single_hours, percent_per_hour FROM service_quality_limits"
        )
    }
    charges = {(a, s): Decimal(total) for a, s, total in conn.execute(_CHARGES, params)}
    result = []
    for (account_no, service, kind), intervals in sorted(events.items()):
        charge = charges.get((account_no, service), Decimal(0))
        if charge <= 0 or service not in limits:
            continue
        monthly, single, percent = limits[service]
        with engine_context():
            durations = [Decimal((b - a) / _HOUR) for a, b in merge_intervals(intervals, start, end)]
            hours = (
                excess_hours(durations, monthly, single, rule)
                if kind == "interruption"
                else sum(durations, Decimal(0))
            )
        if hours <= 0:
            continue
        reduction = quality_reduction(charge, percent, hours)
        result.append(
            ServiceRecalculation(
                account_no,
                service,
                kind,
                to_kopecks(charge),
                hours,
                -(charge * percent / 100 * hours),
                -to_kopecks(reduction),
                _REASONS[kind].format(h=hours.normalize()),
                f"ΔP = −min(P, P × {percent.normalize()} % × ч сверх допустимого)",
            )
        )
    return result


def run_service_recalculations(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    *,
    require_impossibility_act: bool = True,
    interruption_rule: InterruptionHoursRule = InterruptionHoursRule.MONTHLY_TOTAL,
) -> list[ServiceRecalculation]:
    """Compute and store the absence and interruption/quality recalculations of ``period`` (replacing
    earlier ones of this period); returns what was stored."""
    text = str(period)
    conn.execute(
        "DELETE FROM service_recalculation_lines WHERE building_id = %s AND period = %s", (building_id, text)
    )
    lines = [
        line
        for line in (
            *_absence(conn, building_id, period, require_impossibility_act),
            *_quality(conn, building_id, period, interruption_rule),
        )
        if line.amount_kopecks
    ]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO service_recalculation_lines (building_id, period, account_no, service, reason_kind,"
            " basis_kopecks, quantity, amount_exact, amount_kopecks, reason, formula)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    building_id,
                    text,
                    r.account_no,
                    r.service,
                    r.reason_kind,
                    r.basis_kopecks,
                    r.quantity,
                    r.amount_exact,
                    r.amount_kopecks,
                    r.reason,
                    r.formula,
                )
                for r in lines
            ],
        )
    return lines
