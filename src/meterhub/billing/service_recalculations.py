"""Recalculations (перерасчёты) of the open period for temporary absence and for interruptions / poor quality.

Pure rules first, then :func:`run_service_recalculations` (the close's money step) which reads the
period's charge lines and the recorded events and stores ``service_recalculation_lines`` (one per
account × service × reason, negative = уменьшение) in the period being closed.

**Temporary absence** (временное отсутствие, ПП 354 пп. 86–97, billing-rules §6.1): only services
billed by normative (``normative`` lines, individual consumption) in premises with an act of technical
impossibility of a meter (``premises.meter_install_possible = false``, the post-2017 condition; switch off
with ``require_impossibility_act=False``); only absences of more than 5 full days in a row; full days
exclude the day of departure and the day of return (п. 90). For each charge line part ``[part_start,
part_end)`` of ``n`` persons::

    ΔP = − amount_exact × Σ_absences persons_away × d_in_part / (n × days_of_part)

summed per account × service and rounded half-up once (billing-rules §6.1 [I]).

**Interruptions and poor quality** (ПП 354 раздел IX, Приложение № 1, Decision 4, billing-rules §6.2 [I]):
per service the hours of interruption in the period (overlapping events merged, clipped to the period)
count over the permitted limits of ``service_quality_limits`` (data)::

    excess_h = max(Σ t_k − monthly_limit, Σ max(0, t_k − single_limit))     (interruptions)
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

import psycopg

from meterhub.billing.money import engine_context, round_money, to_kopecks
from meterhub.billing.periods import BillingPeriod

__all__ = [
    "ABSENCE_COLUMNS",
    "EVENT_COLUMNS",
    "MIN_ABSENCE_DAYS",
    "EventFileError",
    "ServiceRecalculation",
    "absence_full_days",
    "excess_hours",
    "import_absences",
    "import_service_events",
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


def excess_hours(
    durations: Sequence[Decimal], monthly_limit: Decimal, single_limit: Decimal | None
) -> Decimal:
    """Hours over the permitted interruption [h]: ``max(Σt − monthly, Σ max(0, t − single))`` (§6.2 [I])."""
    total = sum(durations, Decimal(0))
    over_total = max(Decimal(0), total - monthly_limit)
    if single_limit is None:
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
SELECT c.account_no, c.service, c.part_start, c.part_end, c.amount_exact, v.persons
  FROM charge_lines c
  JOIN accounts a USING (account_no)
  JOIN premises p ON p.building_id = a.building_id AND p.premise_no = a.premise_no
  JOIN period_volumes v ON v.building_id = c.building_id AND v.period = c.period
       AND v.account_no = c.account_no AND v.service = c.service AND v.zone = c.zone
 WHERE c.building_id = %(building)s AND c.period = %(period)s AND c.kind = 'individual'
   AND c.method = 'normative' AND c.service NOT IN ('heat', 'maintenance')
   AND (NOT %(require_act)s OR NOT p.meter_install_possible)
"""
_ABSENCES = """
SELECT b.account_no, b.departed_on, b.returned_on, b.persons
  FROM absence_periods b JOIN accounts a USING (account_no)
 WHERE a.building_id = %(building)s AND b.departed_on < %(end)s AND b.returned_on > %(start)s
"""


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
    for account_no, departed, returned, persons in conn.execute(_ABSENCES, params):
        if (returned - departed).days - 1 > MIN_ABSENCE_DAYS:
            absences[account_no].append((departed, returned, persons))
    if not absences:
        return []
    sums: dict[tuple[str, str], list[Decimal]] = {}
    with engine_context():
        for account_no, service, part_start, part_end, exact, persons in conn.execute(
            _NORMATIVE_LINES, params
        ):
            if account_no not in absences or not persons:
                continue
            part_days = (part_end - part_start).days
            person_days = sum(
                min(away, persons) * absence_full_days(dep, ret, part_start, part_end)
                for dep, ret, away in absences[account_no]
            )
            if not person_days:
                continue
            acc = sums.setdefault((account_no, service), [Decimal(0), Decimal(0), Decimal(0)])
            acc[0] += exact * person_days / (persons * part_days)
            acc[1] += person_days
            acc[2] += exact
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
                f"временное отсутствие потребителей: {person_days} чел.-дн. (ПП 354 пп. 86–97)",
                "ΔP = −P × Σ(чел. × полные дни) / (n × дни периода)",
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


def _quality(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> list[ServiceRecalculation]:
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
            hours = excess_hours(durations, monthly, single) if kind == "interruption" else sum(durations)
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
            *_quality(conn, building_id, period),
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


# --- CSV input of absences and service events (the CLI's `meterhub absences/interruptions import`) ---------

ABSENCE_COLUMNS = ("account", "departed_on", "returned_on")
"""Required columns of an absence CSV; optional: persons (default 1), document."""
EVENT_COLUMNS = ("building", "service", "kind", "started_at", "ended_at")
"""Required columns of a service-event CSV; optional: premise (empty = whole building), description."""


class EventFileError(ValueError):
    """Problems of an absence / event file, one per line; nothing of the file was stored."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(problems))


def _csv_records(data: bytes, file: str, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    import csv
    import io

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1251")
    first = text.split("\n", 1)[0]
    reader = csv.DictReader(
        io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ","
    )
    header = [(name or "").strip().lower() for name in reader.fieldnames or ()]
    missing = [c for c in required if c not in header]
    if missing:
        raise EventFileError([f"{file}, line 1: missing column(s) {', '.join(missing)}; header is {header}"])
    return [
        (reader.line_num, {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()})
        for row in reader
        if any((v or "").strip() for v in row.values())
    ]


def import_absences(conn: psycopg.Connection, data: bytes, file: str = "<absences>") -> int:
    """Store absences from CSV (``account;departed_on;returned_on[;persons;document]``, dates YYYY-MM-DD or
    DD.MM.YYYY); all or nothing; a repeated (account, departed_on, returned_on) updates persons/document.
    Returns the number of rows stored."""
    from meterhub.billing.payment_registry import parse_day

    rows, problems = [], []
    for line, rec in _csv_records(data, file, ABSENCE_COLUMNS):
        try:
            departed, returned = parse_day(rec["departed_on"]), parse_day(rec["returned_on"])
            persons = int(rec.get("persons") or 1)
            if returned <= departed or persons <= 0:
                raise ValueError("returned_on must be after departed_on and persons positive")
        except ValueError as exc:
            problems.append(f"{file}, line {line}: {exc}")
            continue
        rows.append((rec["account"], departed, returned, persons, rec.get("document", "")))
    known = {
        r[0]
        for r in conn.execute(
            "SELECT account_no FROM accounts WHERE account_no = ANY(%s)", ([r[0] for r in rows],)
        )
    }
    problems += [
        f"{file}: unknown account {r[0]!r}; import the account first" for r in rows if r[0] not in known
    ]
    if problems:
        raise EventFileError(problems)
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO absence_periods (account_no, departed_on, returned_on, persons, document)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (account_no, departed_on, returned_on)"
            " DO UPDATE SET persons = EXCLUDED.persons, document = EXCLUDED.document",
            rows,
        )
    return len(rows)


def import_service_events(conn: psycopg.Connection, data: bytes, file: str = "<events>") -> int:
    """Store interruptions / poor-quality events from CSV
    (``building;service;kind;started_at;ended_at[;premise;description]``; ISO 8601 times, without an
    offset read in the building's time zone); all or nothing; repeats update ended_at/description."""
    from zoneinfo import ZoneInfo

    zones = dict(conn.execute("SELECT building_id, time_zone FROM buildings").fetchall())
    services = {r[0] for r in conn.execute("SELECT service FROM services")}
    rows, problems = [], []
    for line, rec in _csv_records(data, file, EVENT_COLUMNS):
        try:
            building = rec["building"]
            if building not in zones:
                raise ValueError(f"unknown building {building!r}")
            if rec["service"] not in services:
                raise ValueError(f"unknown service {rec['service']!r}; one of {sorted(services)}")
            if rec["kind"] not in ("interruption", "poor_quality"):
                raise ValueError("kind must be interruption or poor_quality")
            times = [datetime.fromisoformat(rec[c]) for c in ("started_at", "ended_at")]
            started, ended = (t if t.tzinfo else t.replace(tzinfo=ZoneInfo(zones[building])) for t in times)
            if ended <= started:
                raise ValueError("ended_at must be after started_at")
        except ValueError as exc:
            problems.append(f"{file}, line {line}: {exc}")
            continue
        premise = rec.get("premise") or None
        rows.append(
            (building, premise, rec["service"], rec["kind"], started, ended, rec.get("description", ""))
        )
    if problems:
        raise EventFileError(problems)
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO service_events (building_id, premise_no, service, kind, started_at, ended_at,"
                " description) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (building_id, premise_no, service, kind, started_at)"
                " DO UPDATE SET ended_at = EXCLUDED.ended_at, description = EXCLUDED.description",
                rows,
            )
    except psycopg.errors.ForeignKeyViolation as exc:
        raise EventFileError(
            [f"{file}: a premise does not exist in its building ({exc.diag.message_detail})"]
        ) from None
    return len(rows)
