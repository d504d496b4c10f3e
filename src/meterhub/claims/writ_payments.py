"""Money received under a writ or a court order (поступления по исполнительному документу).

Money under a court act comes from one defendant (the bailiffs' proceeding or the bank names him) and pays
what the act orders *him* to pay (:mod:`.awards`): a defendant by share at most his award, the debtors of a
solidary award together at most its one amount (ГК РФ ст. 322, 323). The part up to what is left of his
award — and of the debts claimed from him (a solidary award: from any of its debtors), each line at most
what the account still owes of it (:mod:`.writ_limits`) — is posted to billing as a payment whose
allocation is limited to those debts (``post_payment(debt_limits=…)``; principal oldest first, then the
penalties, never the current month); the next part reimburses the court costs of his award not yet
recovered, and anything beyond is posted to the account as an ordinary advance. Another defendant's debts
are never paid by his money. A court act recorded before awards per defendant existed is read as one
award of everything the case claimed and all the court costs awarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg

from meterhub.billing.money.posting import post_payment
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.claims.awards import Award
from meterhub.claims.cases_store import court_act_awards
from meterhub.claims.lawsuit import latest_suit_lines
from meterhub.claims.lifecycle import COLLECTING_STATES, DECISION_STATES, CaseState
from meterhub.claims.selection import debt_statement
from meterhub.claims.writ_limits import LineKey, award_debt_limits

__all__ = ["WRIT_SOURCE", "WritReceipt", "case_remaining", "receive_under_writ"]

WRIT_SOURCE = "writ"
"""The ``payments.source`` of money under a writ (its payment id is the case and the reference)."""


@dataclass(frozen=True, slots=True)
class WritReceipt:
    receipt_id: int
    to_debts: int
    to_costs: int
    to_advance: int
    payment_pk: int | None
    award_no: int | None = None
    """The award of the court act the money was received under (``None``: an act without awards)."""


def _owed(
    conn: psycopg.Connection, account_no: str, on_day: date, tables: PenaltyTables | None
) -> dict[LineKey, int]:
    return {
        (line.period, line.kind, line.service): line.amount
        for line in debt_statement(conn, account_no, on_day, tables).lines
    }


def _claimed(conn: psycopg.Connection, case_id: int, debtor_nos: list[int] | None) -> dict[LineKey, int]:
    """The lines claimed from ``debtor_nos`` (all: ``None``): after a lawsuit the suit's (:mod:`.lawsuit`),
    else the application's."""
    suit = latest_suit_lines(conn, case_id)
    if suit is not None:
        summed: dict[LineKey, int] = {}
        for debtor_no, parts in suit.items():
            if debtor_nos is None or debtor_no in debtor_nos:
                for (period, service, kind), amount in parts.items():
                    summed[(period, kind, service)] = summed.get((period, kind, service), 0) + amount
        return summed
    return {
        (period, kind, service): int(amount)
        for period, kind, service, amount in conn.execute(
            "SELECT debt_period, kind, service, sum(amount_kopecks)::bigint FROM claims_case_debts"
            " WHERE case_id = %s AND (%s::int[] IS NULL OR debtor_no = ANY(%s::int[])) GROUP BY 1, 2, 3",
            (case_id, debtor_nos, debtor_nos),
        )
    }


def case_remaining(
    conn: psycopg.Connection, case_id: int, on_day: date, tables: PenaltyTables | None = None
) -> dict[tuple[str, str], dict[str, int]]:
    """What the case still claims per ``(debt period, kind) → {service: kopecks}``: the claimed amount,
    at most what the account still owes of that debt on ``on_day``."""
    account_no = conn.execute(
        "SELECT account_no FROM claims_cases WHERE case_id = %s", (case_id,)
    ).fetchone()[0]
    owed = _owed(conn, account_no, on_day, tables)
    result: dict[tuple[str, str], dict[str, int]] = {}
    for (period, kind, service), claimed in _claimed(conn, case_id, None).items():
        left = min(claimed, owed.get((period, kind, service), 0))
        if left > 0:
            result.setdefault((period, kind), {})[service] = left
    return result


@dataclass(frozen=True, slots=True)
class _Target:
    """What the money is received under: one award of the latest court act (or, for an act without
    awards, the whole case)."""

    step_id: int | None
    award_no: int | None
    debtor_nos: list[int] | None
    """The debtors whose claimed debts the money pays (``None``: all of the case's)."""
    debt_cap: int | None
    """The award's amount (``None``: only the claimed lines limit it)."""
    costs_cap: int


def _target(conn: psycopg.Connection, case_id: int, debtor_no: int | None) -> _Target:
    known = [
        n
        for (n,) in conn.execute(
            "SELECT debtor_no FROM claims_case_debtors WHERE case_id = %s ORDER BY debtor_no", (case_id,)
        )
    ]
    if debtor_no is not None and debtor_no not in known:
        raise ValueError(
            f"case {case_id} has no debtor {debtor_no}; its debtors are {', '.join(map(str, known))}"
        )
    act = conn.execute(
        "SELECT step_id FROM claims_case_steps WHERE case_id = %s AND state = ANY(%s)"
        " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id, [s.value for s in DECISION_STATES]),
    ).fetchone()
    awards: list[Award] = court_act_awards(conn, act[0]) if act else []
    if not awards:  # an act recorded before awards per defendant: the whole case, all awarded costs
        costs = conn.execute(
            "SELECT coalesce(sum(awarded_kopecks), 0) FROM claims_case_costs WHERE case_id = %s", (case_id,)
        ).fetchone()[0]
        return _Target(None, None, None, None, int(costs))
    numbered = list(enumerate(awards, 1))
    if debtor_no is None:
        if len(awards) > 1:
            raise ValueError(
                f"case {case_id}: the court act orders {len(awards)} defendants (or groups) separately; "
                "name the debtor the money came from (debtor number, --debtor)"
            )
        award_no, award = numbered[0]
    else:
        found = [(no, a) for no, a in numbered if debtor_no in a.debtor_nos]
        if not found:
            raise ValueError(
                f"case {case_id}: the court act orders debtor {debtor_no} to pay nothing; money from him is "
                "not received under it"
            )
        award_no, award = found[0]
    return _Target(act[0], award_no, list(award.debtor_nos), award.amount_kopecks, award.costs_kopecks)


def _received(conn: psycopg.Connection, case_id: int, target: _Target) -> tuple[int, int, dict[LineKey, int]]:
    """What the award (or, without awards, the case) has received: to debts, to costs, and per line what
    its writ payments paid (their ``writ:`` allocations)."""
    where = "r.case_id = %(c)s" + (
        "" if target.step_id is None else " AND r.award_step_id = %(s)s AND r.award_no = %(a)s"
    )
    params = {"c": case_id, "s": target.step_id, "a": target.award_no}
    debts, costs = conn.execute(
        "SELECT coalesce(sum(r.to_debts_kopecks), 0), coalesce(sum(r.to_costs_kopecks), 0)"
        f" FROM claims_writ_receipts r WHERE {where}",
        params,
    ).fetchone()
    lines = {
        (period, kind, service): int(amount)
        for period, kind, service, amount in conn.execute(
            "SELECT a.debt_period, a.kind, a.service, sum(a.amount_kopecks)::bigint"
            " FROM claims_writ_receipts r JOIN payment_allocations a USING (payment_pk)"
            f" WHERE {where} AND a.kind <> 'advance' AND a.rule LIKE 'writ:%%' GROUP BY 1, 2, 3",
            params,
        )
    }
    return int(debts), int(costs), lines


def receive_under_writ(
    conn: psycopg.Connection,
    case_id: int,
    amount_kopecks: int,
    received_on: date,
    reference: str,
    actor: str,
    tables: PenaltyTables | None = None,
    *,
    debtor_no: int | None = None,
) -> WritReceipt:
    """Record ``amount_kopecks`` received on ``received_on`` under the case's court act from debtor
    ``debtor_no`` (required when the act has several awards; ``reference``: the bailiffs' or bank's payment
    order, unique per case) and post it (see the module docstring)."""
    if amount_kopecks <= 0:
        raise ValueError(f"the amount received must be positive, got {amount_kopecks} kopecks")
    reference = reference.strip()
    if not reference:
        raise ValueError("a receipt under a writ needs its reference (номер платёжного поручения)")
    row = conn.execute(
        "SELECT account_no, state, case_number FROM claims_cases WHERE case_id = %s FOR UPDATE", (case_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"case {case_id} does not exist")
    account_no, state, case_number = row
    if CaseState(state) not in COLLECTING_STATES:
        raise ValueError(
            f"case {case_id} is {CaseState(state).title_ru}: money under a court act is received only "
            "after an order or decision and before the case is closed"
        )
    target = _target(conn, case_id, debtor_no)
    to_debts_before, to_costs_before, paid_lines = _received(conn, case_id, target)
    claimed = _claimed(conn, case_id, target.debtor_nos)
    owed = _owed(conn, account_no, received_on, tables)
    if target.debt_cap is None:  # no awards: what the case still claims, however much was received
        limits = award_debt_limits(claimed, {}, owed, sum(claimed.values()))
    else:
        limits = award_debt_limits(claimed, paid_lines, owed, target.debt_cap - to_debts_before)
    to_debts = min(amount_kopecks, sum(sum(services.values()) for services in limits.values()))
    to_costs = min(amount_kopecks - to_debts, max(0, target.costs_cap - to_costs_before))
    to_account = amount_kopecks - to_costs
    payment_pk = None
    if to_account:
        payment_pk = post_payment(
            conn,
            account_no=account_no,
            amount_kopecks=to_account,
            paid_on=received_on,
            payment_id=f"{case_id}:{reference}",
            source=WRIT_SOURCE,
            purpose=f"Взыскание по исполнительному документу, дело {case_number or case_id}",
            penalties_designated=False,
            tables=tables,
            debt_limits=limits,
            rule_prefix="writ:",
        )
        if payment_pk is None:
            raise ValueError(f"case {case_id}: receipt {reference!r} was recorded before")
    receipt_id = conn.execute(
        "INSERT INTO claims_writ_receipts (case_id, received_on, amount_kopecks, to_debts_kopecks,"
        " to_costs_kopecks, payment_pk, reference, actor, debtor_no, award_step_id, award_no)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING receipt_id",
        (
            case_id,
            received_on,
            amount_kopecks,
            to_debts,
            to_costs,
            payment_pk,
            reference,
            actor,
            debtor_no,
            target.step_id,
            target.award_no,
        ),
    ).fetchone()[0]
    return WritReceipt(receipt_id, to_debts, to_costs, to_account - to_debts, payment_pk, target.award_no)
