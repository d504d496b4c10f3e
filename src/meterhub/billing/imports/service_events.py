"""CSV input of temporary absences and service interruption / poor-quality events.

The CLI's ``meterhub absences import`` and ``meterhub interruptions import``; the close reads what they
store (:mod:`meterhub.billing.close.service_recalculations`). All or nothing per file; errors name the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import psycopg

__all__ = ["ABSENCE_COLUMNS", "EVENT_COLUMNS", "EventFileError", "import_absences", "import_service_events"]


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
    from meterhub.billing.money.payment_registry import parse_day

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
