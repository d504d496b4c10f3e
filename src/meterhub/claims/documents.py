"""What the printed documents say, read from the database into plain dataclasses (rendered by
:mod:`.pdf`): the court-order application of a case and the pre-trial claim of an account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import psycopg

from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.claims.penalty_sheet import DebtPenaltySheet, penalty_sheet
from meterhub.claims.selection import DebtLine, debt_statement

__all__ = [
    "ApplicationDocument",
    "Claimant",
    "DebtorPart",
    "Demand",
    "PenaltyRow",
    "PretrialDocument",
    "application_document",
    "demands_of",
    "pretrial_document",
]


@dataclass(frozen=True, slots=True)
class Claimant:
    name: str
    inn: str
    ogrn: str
    address: str
    bank_details: str
    signatory: str


@dataclass(frozen=True, slots=True)
class DebtorPart:
    number: int
    full_name: str
    birth_date: date | None
    share: str
    representative: str
    principal: int
    penalty: int
    state_fee: int
    lines: tuple[tuple[str, str, str, int], ...]
    """(period, service name, kind, kopecks) in period order."""
    joint_group: int | None = None
    """Общая совместная собственность (the register's ``joint_group``): claimed solidarily with the
    other debtors of the group (see :func:`demands_of`)."""
    registered: bool = False
    """A person of the passport office's register (his details below are what it knows of him)."""
    birth_place: str = ""
    snils: str = ""
    organization: bool = False
    """An organisation owner: named by its name, ИНН, ОГРН and legal address (ГПК РФ ст. 124 ч. 2 п. 3)."""
    inn: str = ""
    ogrn: str = ""
    legal_address: str = ""


@dataclass(frozen=True, slots=True)
class Demand:
    """One demand of the application: a debtor by his share (``liability='share'``), or the joint owners
    of one joint ownership solidarily (``'solidary'``, ГК РФ ст. 253, 322, 323; СК РФ ст. 34) for the sum
    of their parts — one amount, collected once from any of them."""

    liability: str
    debtors: tuple[DebtorPart, ...]
    share: str
    """The share of the premise the demand is for (a joint ownership: the share held jointly)."""
    principal: int
    penalty: int
    state_fee: int
    lines: tuple[tuple[str, str, str, int], ...]
    """(period, service name, kind, kopecks): the debtors' lines summed, in period order."""


def _share_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def demands_of(debtors: Sequence[DebtorPart]) -> list[Demand]:
    """The demands of an application (pure): each debtor by his share, except the debtors of one joint
    ownership (two or more with the same ``joint_group``), claimed together in one solidary demand in the
    place of the group's first debtor — the sum of their principal, penalties and state-fee parts (court
    costs of solidary debtors are recovered solidarily, Пленум ВС РФ от 21.01.2016 № 1 п. 5) and of their
    lines, for the share they hold jointly. A group of one (the other joint owner not a debtor of the
    case) is an ordinary share — the same reading as :func:`meterhub.claims.awards.awards_as_claimed`."""
    groups: dict[int, list[DebtorPart]] = {}
    for d in debtors:
        if d.joint_group is not None:
            groups.setdefault(d.joint_group, []).append(d)
    demands: list[Demand] = []
    placed: set[int] = set()
    for d in debtors:
        group = groups.get(d.joint_group, []) if d.joint_group is not None else []
        if len(group) < 2:
            demands.append(Demand("share", (d,), d.share, d.principal, d.penalty, d.state_fee, d.lines))
            continue
        if d.joint_group in placed:
            continue
        placed.add(d.joint_group)  # type: ignore[arg-type]
        summed: dict[tuple[str, str, str], int] = {}
        for member in group:
            for period, service, kind, amount in member.lines:
                summed[(period, service, kind)] = summed.get((period, service, kind), 0) + amount
        order: dict[tuple[str, str, str], int] = {}  # first seen, so the members' line order is kept
        for member in group:
            for period, service, kind, _ in member.lines:
                order.setdefault((period, service, kind), len(order))
        lines = tuple(
            (period, service, kind, amount)
            for (period, service, kind), amount in sorted(
                summed.items(), key=lambda item: (item[0][0], order[item[0]])
            )
        )
        demands.append(
            Demand(
                "solidary",
                tuple(group),
                _share_text(sum((Fraction(m.share) for m in group), Fraction(0))),
                sum(m.principal for m in group),
                sum(m.penalty for m in group),
                sum(m.state_fee for m in group),
                lines,
            )
        )
    return demands


@dataclass(frozen=True, slots=True)
class PenaltyRow:
    period: str
    service: str
    due_date: date
    days_overdue: int
    """Days from the day after the due date to the statement's day."""
    principal: int
    penalty: int


@dataclass(frozen=True, slots=True)
class ApplicationDocument:
    case_id: int
    account_no: str
    address: str
    court_name: str
    court_address: str
    claimant: Claimant
    as_of: date
    period_from: str
    period_to: str
    principal: int
    penalty: int
    state_fee: int
    fee_formula: str
    debtors: tuple[DebtorPart, ...]
    penalty_table: tuple[PenaltyRow, ...]
    """The penalties calculation: the claimed principal and penalty per period and service."""
    penalty_runs: tuple[DebtPenaltySheet, ...] = ()
    """The penalty of each claimed debt itemised by runs of days (:mod:`.penalty_sheet`)."""
    service_names: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class PretrialDocument:
    account_no: str
    owner_name: str
    address: str
    claimant: Claimant
    as_of: date
    pay_by: date
    lines: tuple[DebtLine, ...]
    service_names: dict[str, str]


def claimant(conn: psycopg.Connection) -> Claimant:
    row = conn.execute(
        "SELECT name, inn, ogrn, address, bank_details, signatory FROM claims_claimant WHERE claimant_id = 1"
    ).fetchone()
    if row is None:
        raise LookupError("the claimant is not set: meterhub claims claimant --name … --inn … --address …")
    return Claimant(*row)


def service_names(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT service, name_ru FROM services").fetchall())


def _address(conn: psycopg.Connection, account_no: str) -> tuple[str, str]:
    row = conn.execute(
        "SELECT b.address, a.premise_no, a.owner_name FROM accounts a JOIN buildings b USING (building_id)"
        " WHERE a.account_no = %s",
        (account_no,),
    ).fetchone()
    if row is None:
        raise LookupError(f"account {account_no!r} does not exist")
    return f"{row[0]}, кв. {row[1]}", row[2]


def _row_order(item: tuple[tuple[str, str], dict[str, int]]) -> tuple:
    (period, service), _ = item
    return period, service_receipt_key(service)


def application_document(
    conn: psycopg.Connection, case_id: int, tables: PenaltyTables | None = None
) -> ApplicationDocument:
    row = conn.execute(
        "SELECT c.account_no, c.court_name, coalesce(d.court_address, ''), c.as_of, c.period_from,"
        " c.period_to,"
        " c.principal_kopecks, c.penalty_kopecks, c.state_fee_kopecks,"
        " (SELECT details->>'state_fee' FROM claims_case_steps s WHERE s.case_id = c.case_id"
        "   AND s.state = 'prepared' ORDER BY step_id LIMIT 1)"
        " FROM claims_cases c LEFT JOIN claims_court_districts d USING (building_id) WHERE c.case_id = %s",
        (case_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"case {case_id} does not exist")
    account_no, court, court_address, as_of, period_from, period_to, principal, penalty, fee, formula = row
    names = service_names(conn)
    lines: dict[int, list[tuple[str, str, str, int]]] = {}
    for number, period, service, kind, amount in conn.execute(
        "SELECT debtor_no, debt_period, service, kind, amount_kopecks FROM claims_case_debts"
        " WHERE case_id = %s"
        " ORDER BY debtor_no, debt_period, kind DESC, service",
        (case_id,),
    ):
        lines.setdefault(number, []).append((period, names.get(service, service), kind, amount))
    rows = conn.execute(
        "SELECT d.debtor_no, d.full_name, d.birth_date, d.share_numerator, d.share_denominator,"
        " d.representative, d.principal_kopecks, d.penalty_kopecks, d.state_fee_kopecks, d.joint_group,"
        " p.person_id, p.birth_place, p.snils, d.organization, d.inn, d.ogrn, d.legal_address"
        " FROM claims_case_debtors d LEFT JOIN registry_persons p ON p.person_id = d.person_id"
        " WHERE d.case_id = %s ORDER BY d.debtor_no",
        (case_id,),
    ).fetchall()
    debtors = tuple(
        DebtorPart(
            number,
            name,
            birth,
            f"{num}/{den}",
            representative,
            p,
            pen,
            f,
            tuple(lines.get(number, ())),
            joint,
            person is not None,
            place or "",
            snils or "",
            organization,
            inn,
            ogrn,
            legal_address,
        )
        for (
            number,
            name,
            birth,
            num,
            den,
            representative,
            p,
            pen,
            f,
            joint,
            person,
            place,
            snils,
            organization,
            inn,
            ogrn,
            legal_address,
        ) in rows
    )
    tables = tables or PenaltyTables.default()
    sums: dict[tuple[str, str], dict[str, int]] = {}
    for period, service, kind, amount in conn.execute(
        "SELECT debt_period, service, kind, sum(amount_kopecks)::bigint FROM claims_case_debts"
        " WHERE case_id = %s GROUP BY 1, 2, 3",
        (case_id,),
    ):
        sums.setdefault((period, service), {})[kind] = amount
    penalty_periods = {period for (period, _), kinds in sums.items() if kinds.get("penalty")}
    penalty_table = []
    for (period, service), kinds in sorted(sums.items(), key=_row_order):
        due = tables.due_date(BillingPeriod.parse(period))
        penalty_table.append(
            PenaltyRow(
                period,
                names.get(service, service),
                due,
                max(0, (as_of - due).days),
                kinds.get("principal", 0),
                kinds.get("penalty", 0),
            )
        )
    address, _ = _address(conn, account_no)
    return ApplicationDocument(
        case_id,
        account_no,
        address,
        court,
        court_address,
        claimant(conn),
        as_of,
        period_from,
        period_to,
        principal,
        penalty,
        fee,
        formula or "",
        debtors,
        tuple(penalty_table),
        tuple(penalty_sheet(conn, account_no, as_of, penalty_periods, tables)),
        names,
    )


def pretrial_document(
    conn: psycopg.Connection, account_no: str, as_of: date, pay_by: date, tables: PenaltyTables | None = None
) -> PretrialDocument:
    address, owner = _address(conn, account_no)
    statement = debt_statement(conn, account_no, as_of, tables)
    return PretrialDocument(
        account_no, owner, address, claimant(conn), as_of, pay_by, statement.lines, service_names(conn)
    )
