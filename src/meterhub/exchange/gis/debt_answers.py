"""Answering debt requests from the database: store the subrequests received, find the premise's accounts,
their court decisions and ledger debt, decide (:func:`~.messages.debt_requests.decide`) and build the
importResponses message; plus the import of court decisions (``court_decisions``) while no claims stage
fills that table.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import psycopg

from meterhub.billing.money.ledger import ADVANCE_SERVICE, outstanding_by_debt
from meterhub.exchange.gis.identifiers import identifiers
from meterhub.exchange.gis.messages.debt_requests import (
    MAX_ACTIONS,
    CourtDecision,
    DebtAnswer,
    Subrequest,
    build_debt_responses,
    decide,
    parse_subrequests,
    premise_number,
)
from meterhub.exchange.gis.model import BuiltMessage

__all__ = [
    "AnsweredRequests",
    "CourtDecisionImportError",
    "answer_subrequests",
    "court_decisions_of",
    "import_court_decisions",
    "locate_accounts",
    "record_court_decision",
]


@dataclass
class AnsweredRequests:
    answers: list[tuple[Subrequest, DebtAnswer, list[str]]] = field(default_factory=list)
    """Each answered subrequest with its answer and the accounts it looked at."""
    unmatched: list[tuple[Subrequest, str]] = field(default_factory=list)
    """Subrequests left for a person to answer, with the reason (address not found)."""
    messages: list[BuiltMessage] = field(default_factory=list)


def locate_accounts(conn: psycopg.Connection, subrequest: Subrequest, on_day: date) -> tuple[list[str], str]:
    """Accounts of the requested premise (by the house's ФИАС/ГАР GUID and the premise number of
    ``addressDetails``) open at some point of the requested period; ``([], reason)`` when not found."""
    houses = identifiers(conn, "house_fias_guid")
    wanted = {g.lower() for g in (subrequest.fias_house_guid, subrequest.house_guid) if g}
    buildings = [b for b, g in houses.items() if g.lower() in wanted]
    if not buildings:
        return (
            [],
            f"house {subrequest.address} ({', '.join(sorted(wanted)) or 'no GUID'}) "
            f"is not a meterhub building",
        )
    premise = premise_number(subrequest.address_details)
    if premise is None:
        return [], f"no premise number in the address details {subrequest.address_details!r}"
    rows = conn.execute(
        "SELECT account_no FROM accounts WHERE building_id = ANY(%s) AND premise_no = %s AND opened_on <= %s "
        "AND (closed_on IS NULL OR closed_on > %s) ORDER BY account_no",
        (buildings, premise, subrequest.period_end, subrequest.period_start),
    ).fetchall()
    if not rows:
        return [], f"no account of premise {premise} in {', '.join(buildings)} during the requested period"
    return [r[0] for r in rows], ""


def court_decisions_of(conn: psycopg.Connection, accounts: list[str]) -> list[CourtDecision]:
    rows = conn.execute(
        "SELECT account_no, case_number, court, decided_on, in_force_on, debt_from, debt_to, amount_kopecks, "
        "debtor_last_name, debtor_first_name, debtor_middle_name, debtor_snils, repaid_on "
        "FROM court_decisions WHERE account_no = ANY(%s) ORDER BY decided_on, decision_id",
        (accounts,),
    ).fetchall()
    return [CourtDecision(*row) for row in rows]


def _unpaid(conn: psycopg.Connection, accounts: list[str]) -> dict[str, dict[str, int]]:
    owed: dict[str, dict[str, int]] = {a: {} for a in accounts}
    for account, debts in outstanding_by_debt(conn, accounts).items():
        for (period, _kind), by_service in debts.items():
            kopecks = sum(max(v, 0) for s, v in by_service.items() if s != ADVANCE_SERVICE)
            if kopecks:
                owed[account][period] = owed[account].get(period, 0) + kopecks
    return owed


def answer_subrequests(
    conn: psycopg.Connection,
    data: bytes,
    source: str,
    *,
    executor_guid: uuid.UUID,
    answered_on: date,
    new_guid: Callable[[], uuid.UUID] = uuid.uuid4,
) -> AnsweredRequests:
    """Parse an exportDebtSubrequests result, store its subrequests, answer those whose premise is found.
    Runs in the caller's transaction; the messages are returned for writing (:mod:`.exports`)."""
    result = AnsweredRequests()
    answers: list[DebtAnswer] = []
    for sub in parse_subrequests(data):
        conn.execute(
            "INSERT INTO gis_debt_subrequests (subrequest_guid, request_number, house_guid, fias_house_guid, "
            "address, address_details, period_start, period_end, sent_date, response_due, requester, source) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (subrequest_guid) DO NOTHING",
            (
                sub.subrequest_guid,
                sub.request_number,
                sub.house_guid,
                sub.fias_house_guid,
                sub.address,
                sub.address_details,
                sub.period_start,
                sub.period_end,
                sub.sent_date,
                sub.response_due,
                sub.requester,
                source,
            ),
        )
        accounts, reason = locate_accounts(conn, sub, answered_on)
        if not accounts:
            result.unmatched.append((sub, reason))
            continue
        answer = decide(sub, court_decisions_of(conn, accounts), _unpaid(conn, accounts), answered_on)
        result.answers.append((sub, answer, accounts))
        answers.append(answer)
        conn.execute(
            "UPDATE gis_debt_subrequests SET answered_at = now(), has_debt = %s, accounts = %s, "
            "answer_note = %s "
            "WHERE subrequest_guid = %s",
            (answer.has_debt, accounts, answer.description, sub.subrequest_guid),
        )
    for start in range(0, len(answers), MAX_ACTIONS):
        result.messages.append(
            build_debt_responses(answers[start : start + MAX_ACTIONS], executor_guid, new_guid)
        )
    return result


class CourtDecisionImportError(ValueError):
    pass


_PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_COLUMNS = (
    "account",
    "case_number",
    "court",
    "decided_on",
    "in_force_on",
    "debt_from",
    "debt_to",
    "amount",
    "last_name",
    "first_name",
    "middle_name",
    "snils",
    "repaid_on",
)


def _day(text: str, column: str, line: int) -> date | None:
    if not text:
        return None
    try:
        if re.match(r"^\d{2}\.\d{2}\.\d{4}$", text):
            d, m, y = text.split(".")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text)
    except ValueError:
        raise CourtDecisionImportError(
            f"line {line}: {column} {text!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)"
        ) from None


def import_court_decisions(conn: psycopg.Connection, path: Path) -> int:
    """Upsert court decisions from a CSV (columns :data:`_COLUMNS`; amount in rubles ``1234.56``).
    Every row is checked before anything is written; an error names the line and the column."""
    text = path.read_bytes().decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    missing = [
        c
        for c in _COLUMNS
        if c not in (reader.fieldnames or []) and c not in ("middle_name", "snils", "repaid_on", "court")
    ]
    if missing:
        raise CourtDecisionImportError(f"{path.name}: missing columns {', '.join(missing)}")
    accounts = {a for (a,) in conn.execute("SELECT account_no FROM accounts").fetchall()}
    rows = []
    for line, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if row["account"] not in accounts:
            raise CourtDecisionImportError(f"line {line}: account {row['account']!r} does not exist")
        for column in ("debt_from", "debt_to"):
            if not _PERIOD_RE.match(row[column]):
                raise CourtDecisionImportError(f"line {line}: {column} {row[column]!r} must be YYYY-MM")
        try:
            amount = int(
                (Decimal(row["amount"].replace(",", ".").replace(" ", "")) * 100).to_integral_exact()
            )
        except (InvalidOperation, ArithmeticError):
            raise CourtDecisionImportError(f"line {line}: amount {row['amount']!r} is not a number") from None
        snils = re.sub(r"\D", "", row.get("snils", "")) or None
        if snils is not None and len(snils) != 11:
            raise CourtDecisionImportError(f"line {line}: snils {row.get('snils')!r} must have 11 digits")
        rows.append(
            (
                row["account"],
                row["case_number"],
                row.get("court", ""),
                _day(row["decided_on"], "decided_on", line),
                _day(row["in_force_on"], "in_force_on", line),
                row["debt_from"],
                row["debt_to"],
                amount,
                row["last_name"],
                row["first_name"],
                row.get("middle_name") or None,
                snils,
                _day(row.get("repaid_on", ""), "repaid_on", line),
            )
        )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO court_decisions (account_no, case_number, court, decided_on, in_force_on, "
            "debt_from, "
            "debt_to, amount_kopecks, debtor_last_name, debtor_first_name, debtor_middle_name, debtor_snils, "
            "repaid_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (account_no, case_number, debtor_no) DO UPDATE SET court = EXCLUDED.court, "
            "decided_on = EXCLUDED.decided_on, in_force_on = EXCLUDED.in_force_on, "
            "debt_from = EXCLUDED.debt_from, "
            "debt_to = EXCLUDED.debt_to, amount_kopecks = EXCLUDED.amount_kopecks, "
            "debtor_last_name = EXCLUDED.debtor_last_name, debtor_first_name = EXCLUDED.debtor_first_name, "
            "debtor_middle_name = EXCLUDED.debtor_middle_name, debtor_snils = EXCLUDED.debtor_snils, "
            "repaid_on = EXCLUDED.repaid_on",
            rows,
        )
    return len(rows)


def record_court_decision(
    conn: psycopg.Connection,
    *,
    account_no: str,
    case_number: str,
    court: str,
    decided_on: date,
    in_force_on: date,
    debt_from: str,
    debt_to: str,
    amount_kopecks: int,
    last_name: str,
    first_name: str,
    middle_name: str | None,
    repaid_on: date | None = None,
    debtor_no: int = 1,
    liability: str = "share",
) -> None:
    """Upsert one defendant of a court decision as the claims stage records it (source ``claims``): one
    row per defendant (``debtor_no``), with what he owes under it and whether by share or solidarily."""
    conn.execute(
        "INSERT INTO court_decisions (account_no, case_number, court, decided_on, in_force_on, "
        "debt_from, debt_to, amount_kopecks, debtor_last_name, debtor_first_name, debtor_middle_name, "
        "repaid_on, debtor_no, liability, source) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'claims') "
        "ON CONFLICT (account_no, case_number, debtor_no) DO UPDATE SET court = EXCLUDED.court, "
        "liability = EXCLUDED.liability, decided_on = EXCLUDED.decided_on, "
        "in_force_on = EXCLUDED.in_force_on, "
        "debt_from = EXCLUDED.debt_from, "
        "debt_to = EXCLUDED.debt_to, amount_kopecks = EXCLUDED.amount_kopecks, "
        "debtor_last_name = EXCLUDED.debtor_last_name, debtor_first_name = EXCLUDED.debtor_first_name, "
        "debtor_middle_name = EXCLUDED.debtor_middle_name, repaid_on = EXCLUDED.repaid_on, source = 'claims'",
        (
            account_no,
            case_number,
            court,
            decided_on,
            in_force_on,
            debt_from,
            debt_to,
            amount_kopecks,
            last_name,
            first_name,
            middle_name,
            repaid_on,
            debtor_no,
            liability,
        ),
    )
