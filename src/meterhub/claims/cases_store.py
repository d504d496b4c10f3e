"""Cases in the database: preparing one from an account's debt statement (each owner for his share, the
state fee), recording its dated steps with who did them, its documents and court costs.

A step that makes a court act (a court order, a decision) is published to the exchange's
``court_decisions`` through :mod:`.court_acts`; a cancelled order or a paid case marks it repaid there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

import psycopg
from psycopg.types.json import Jsonb

from meterhub.billing.rules.payment_allocation import split_kopecks
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.claims.awards import (
    Award,
    ClaimedDebtor,
    DefendantAward,
    awards_as_claimed,
    check_awards,
    defendants,
    total_awarded,
    total_costs,
)
from meterhub.claims.court_acts import CourtActRecord, publish_court_act
from meterhub.claims.debtor_parties import Party, parties_by_period
from meterhub.claims.lawsuit import kind_total, latest_suit_lines, store_suit_lines, suit_claim
from meterhub.claims.lifecycle import DECISION_STATES, CaseState, check_transition
from meterhub.claims.selection import debt_statement
from meterhub.claims.shares import split_lines_by_shares
from meterhub.claims.state_fee import StateFeeTables, state_fee

__all__ = [
    "CaseStep",
    "NothingToClaimError",
    "add_cost",
    "attach_document",
    "case_timeline",
    "prepare_case",
    "record_step",
]

COST_KINDS = ("state_fee", "representation", "postage", "other")


class NothingToClaimError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CaseStep:
    step_id: int
    state: CaseState
    happened_on: date
    note: str
    details: dict
    actor: str
    documents: tuple[tuple[int, str, str], ...]
    """(document_id, kind, file name) attached to the step."""


def prepare_case(
    conn: psycopg.Connection,
    account_no: str,
    *,
    as_of: date,
    actor: str,
    filed_on: date | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    include_time_barred: bool = False,
    tables: PenaltyTables | None = None,
    fee_tables: StateFeeTables | None = None,
) -> int:
    """A new case (state ``prepared``) claiming the account's overdue principal and penalties as of
    ``as_of`` (periods ``period_from``..``period_to`` when given; time-barred periods left out unless
    ``include_time_barred``), split among the owners of each period by their shares; the state fee of a
    court order filed on ``filed_on`` (default ``as_of``). Returns the case id."""
    row = conn.execute(
        "SELECT a.building_id, d.court_name FROM accounts a"
        " LEFT JOIN claims_court_districts d USING (building_id) WHERE a.account_no = %s FOR UPDATE OF a",
        (account_no,),
    ).fetchone()
    if row is None:
        raise LookupError(f"account {account_no!r} does not exist")
    building, court = row
    if court is None:
        raise LookupError(
            f"building {building} has no court district; import them: meterhub claims courts import FILE"
        )
    statement = debt_statement(conn, account_no, as_of, tables)
    lines = [
        line
        for line in statement.lines
        if (include_time_barred or not line.time_barred)
        and (period_from is None or line.period >= period_from)
        and (period_to is None or line.period <= period_to)
    ]
    if not lines:
        raise NothingToClaimError(f"account {account_no} owes nothing claimable as of {as_of}")
    periods = sorted({line.period for line in lines})
    owners = parties_by_period(conn, account_no, periods, as_of)
    debtors: dict[str, Party] = {}
    parts: dict[str, dict[tuple[str, str, str], int]] = {}
    for period in periods:
        period_lines = {(ln.period, ln.service, ln.kind): ln.amount for ln in lines if ln.period == period}
        shares = [party.share for party in owners[period]]
        for party, split in zip(owners[period], split_lines_by_shares(period_lines, shares), strict=True):
            debtors.setdefault(party.key, party)
            parts.setdefault(party.key, {}).update(split)
    keys = [key for key in debtors if parts[key]]
    _refuse_deceased([debtors[key] for key in keys], filed_on or as_of)
    _refuse_unidentified_organizations([debtors[key] for key in keys])
    totals = {key: {"principal": 0, "penalty": 0} for key in keys}
    for key in keys:
        for (_, _, kind), amount in parts[key].items():
            totals[key][kind] += amount
    principal = sum(t["principal"] for t in totals.values())
    penalty = sum(t["penalty"] for t in totals.values())
    fee = state_fee(principal + penalty, filed_on or as_of, tables=fee_tables)
    fee_parts = split_kopecks(fee.amount_kopecks, [sum(totals[k].values()) for k in keys])
    case_id = conn.execute(
        "INSERT INTO claims_cases (account_no, building_id, state, as_of, period_from, period_to, court_name,"
        " principal_kopecks, penalty_kopecks, state_fee_kopecks, fee_schedule, created_by)"
        " VALUES (%s, %s, 'prepared', %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING case_id",
        (
            account_no,
            building,
            as_of,
            periods[0],
            periods[-1],
            court,
            principal,
            penalty,
            fee.amount_kopecks,
            fee.schedule,
            actor,
        ),
    ).fetchone()[0]
    with conn.cursor() as cur:
        for number, (key, fee_part) in enumerate(zip(keys, fee_parts, strict=True), start=1):
            party = debtors[key]
            cur.execute(
                "INSERT INTO claims_case_debtors (case_id, debtor_no, person_id, full_name, birth_date,"
                " share_numerator, share_denominator, representative, principal_kopecks, penalty_kopecks,"
                " state_fee_kopecks, joint_group, organization, inn, ogrn, legal_address)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    case_id,
                    number,
                    party.person_id,
                    party.full_name,
                    party.birth_date,
                    party.share.numerator,
                    party.share.denominator,
                    party.representative,
                    totals[key]["principal"],
                    totals[key]["penalty"],
                    fee_part,
                    party.joint_group,
                    party.organization,
                    party.inn,
                    party.ogrn,
                    party.legal_address,
                ),
            )
            cur.executemany(
                "INSERT INTO claims_case_debts (case_id, debtor_no, debt_period, service, kind,"
                " amount_kopecks) VALUES (%s, %s, %s, %s, %s, %s)",
                [(case_id, number, p, s, k, amount) for (p, s, k), amount in sorted(parts[key].items())],
            )
    conn.execute(
        "INSERT INTO claims_case_steps (case_id, state, happened_on, note, details, actor)"
        " VALUES (%s, 'prepared', %s, %s, %s, %s)",
        (case_id, as_of, "", Jsonb({"state_fee": fee.formula}), actor),
    )
    return case_id


def _refuse_deceased(parties: Sequence[Party], filed_on: date) -> None:
    """A court order cannot be issued against a person who died before the application is filed: his debt
    is claimed from his heirs within the inherited property (ГК РФ ст. 1175) in a lawsuit, and after the
    heirs are entered as owners the later periods from them."""
    dead = [p for p in parties if p.death_date is not None and p.death_date <= filed_on]
    if dead:
        names = ", ".join(f"{p.full_name} (умер {p.death_date:%d.%m.%Y})" for p in dead)
        raise ValueError(
            f"owner {names} died before the filing day {filed_on:%d.%m.%Y}: a court order cannot be issued "
            "against him; claim his debt from the heirs (ГК РФ ст. 1175) or enter the heirs as owners first"
        )


def _refuse_unidentified_organizations(parties: Sequence[Party]) -> None:
    """An application against an organisation must give its name, address, ИНН and ОГРН (ГПК РФ ст. 124
    ч. 2 п. 3); without them the court returns it (ст. 125 ч. 1 п. 1). All three are on one extract from
    ЕГРЮЛ, so a missing one is refused with what to enter rather than printed as unknown."""
    missing = []
    for p in parties:
        if not p.organization:
            continue
        lacks = [
            label
            for label, value in (
                ("ИНН", p.inn),
                ("ОГРН", p.ogrn),
                ("адрес юридического лица", p.legal_address),
            )
            if not value
        ]
        if lacks:
            ownership = p.key.removeprefix("owner:")
            missing.append(f"«{p.full_name}» (право собственности № {ownership}) — нет: {', '.join(lacks)}")
    if missing:
        raise ValueError(
            "заявление о вынесении судебного приказа против организации должно содержать её ИНН, ОГРН и "
            f"адрес (ст. 124 ГПК РФ): {'; '.join(missing)}. Внесите их в реестр собственников по выписке "
            "из ЕГРЮЛ (PUT /api/v1/registry/owners/{номер}/organization) и подготовьте дело снова"
        )


def _split_name(full_name: str) -> tuple[str, str, str | None]:
    parts = full_name.split()
    if len(parts) == 1:
        return parts[0], parts[0], None
    return parts[0], parts[1], " ".join(parts[2:]) or None


def _claimed_debtors(conn: psycopg.Connection, case_id: int) -> list[ClaimedDebtor]:
    """What each debtor was claimed: the application's amounts, or after a lawsuit the suit's (its price
    recalculated to the day it was filed, :mod:`.lawsuit`)."""
    claimed = [
        ClaimedDebtor(*row)
        for row in conn.execute(
            "SELECT debtor_no, principal_kopecks, penalty_kopecks, state_fee_kopecks, joint_group"
            " FROM claims_case_debtors WHERE case_id = %s ORDER BY debtor_no",
            (case_id,),
        )
    ]
    suit = latest_suit_lines(conn, case_id)
    if suit is None:
        return claimed
    return [
        replace(
            d,
            principal_kopecks=kind_total(suit.get(d.debtor_no, {}), "principal"),
            penalty_kopecks=kind_total(suit.get(d.debtor_no, {}), "penalty"),
        )
        for d in claimed
    ]


def _court_act_awards(
    conn: psycopg.Connection,
    case: dict,
    awards: Sequence[Award] | None,
    awarded_kopecks: int | None,
    awarded_costs_kopecks: int | None,
) -> list[Award]:
    debtors = _claimed_debtors(conn, case["case_id"])
    lawsuit_fee = _claim_fee_of_lawsuit(conn, case["case_id"])
    if lawsuit_fee is not None:  # after a lawsuit the costs are the claim's fee, split as the order's was
        parts = split_kopecks(lawsuit_fee, [d.principal_kopecks + d.penalty_kopecks for d in debtors])
        debtors = [replace(d, state_fee_kopecks=part) for d, part in zip(debtors, parts, strict=True)]
        case = {**case, "state_fee_kopecks": lawsuit_fee}
    if awards is None and awarded_kopecks is not None:
        if len(debtors) != 1:
            raise ValueError(
                f"case {case['case_id']} has {len(debtors)} defendants: enter what the court awarded each "
                "(awards by share or solidarily), not one amount"
            )
        costs = case["state_fee_kopecks"] if awarded_costs_kopecks is None else awarded_costs_kopecks
        awards = [Award("share", (debtors[0].debtor_no,), awarded_kopecks, costs)]
    elif awards is None:
        awards = awards_as_claimed(debtors)
        if awarded_costs_kopecks is not None and len(awards) == 1:
            awards = [replace(awards[0], costs_kopecks=awarded_costs_kopecks)]
        elif awarded_costs_kopecks is not None:
            raise ValueError(
                f"case {case['case_id']} has {len(awards)} defendants: enter the court costs per award"
            )
    awards = list(awards)
    check_awards(awards, [d.debtor_no for d in debtors])
    return awards


def _store_awards(conn: psycopg.Connection, case_id: int, step_id: int, awards: Sequence[Award]) -> None:
    for award_no, award in enumerate(awards, 1):
        conn.execute(
            "INSERT INTO claims_case_awards (step_id, award_no, case_id, liability, amount_kopecks,"
            " costs_kopecks) VALUES (%s, %s, %s, %s, %s, %s)",
            (step_id, award_no, case_id, award.liability, award.amount_kopecks, award.costs_kopecks),
        )
        for debtor_no in award.debtor_nos:
            conn.execute(
                "INSERT INTO claims_case_award_debtors (step_id, award_no, case_id, debtor_no)"
                " VALUES (%s, %s, %s, %s)",
                (step_id, award_no, case_id, debtor_no),
            )


def court_act_awards(conn: psycopg.Connection, step_id: int) -> list[Award]:
    """The awards a court-act step recorded, in their order ([] for a step without any)."""
    rows = conn.execute(
        "SELECT a.award_no, a.liability, a.amount_kopecks, a.costs_kopecks,"
        " array_agg(d.debtor_no ORDER BY d.debtor_no)"
        " FROM claims_case_awards a JOIN claims_case_award_debtors d USING (step_id, award_no)"
        " WHERE a.step_id = %s GROUP BY 1, 2, 3, 4 ORDER BY 1",
        (step_id,),
    ).fetchall()
    return [Award(liability, tuple(nos), amount, costs) for _, liability, amount, costs, nos in rows]


def _publish(conn: psycopg.Connection, case: dict, repaid_on: date | None, in_force_on: date | None) -> None:
    decided = conn.execute(
        "SELECT happened_on, step_id, details->>'in_force_on' FROM claims_case_steps"
        " WHERE case_id = %s AND state = ANY(%s)"
        " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case["case_id"], [s.value for s in DECISION_STATES]),
    ).fetchone()
    if decided is None:
        return  # no court act was made: nothing to publish
    names = dict(
        conn.execute(
            "SELECT debtor_no, full_name FROM claims_case_debtors WHERE case_id = %s", (case["case_id"],)
        ).fetchall()
    )
    lines = defendants(court_act_awards(conn, decided[1]))
    if not lines:  # a court act recorded before awards per defendant existed: the first debtor, the whole
        amount = case["awarded_kopecks"] or case["principal_kopecks"] + case["penalty_kopecks"]
        lines = [DefendantAward(min(names), 1, "share", amount, 0)]
    for line in lines:
        last, first, middle = _split_name(names[line.debtor_no])
        publish_court_act(
            conn,
            CourtActRecord(
                case["account_no"],
                case["case_number"],
                case["court_name"],
                decided[0],
                in_force_on or (date.fromisoformat(decided[2]) if decided[2] else decided[0]),
                case["period_from"],
                case["period_to"],
                line.amount_kopecks,
                last,
                first,
                middle,
                repaid_on,
                line.debtor_no,
                line.liability,
            ),
        )


def record_step(
    conn: psycopg.Connection,
    case_id: int,
    state: CaseState | str,
    happened_on: date,
    actor: str,
    *,
    note: str = "",
    case_number: str | None = None,
    court: str | None = None,
    awarded_kopecks: int | None = None,
    awarded_costs_kopecks: int | None = None,
    in_force_on: date | None = None,
    details: dict | None = None,
    awards: Sequence[Award] | None = None,
    fee_tables: StateFeeTables | None = None,
    tables: PenaltyTables | None = None,
) -> int:
    """Move the case to ``state`` on ``happened_on`` (checked against :mod:`.lifecycle`); returns the
    step id. ``filed`` records the state fee as paid; a court order or decision needs the case number and
    records what it awards each defendant (``awards``, :mod:`.awards`: by share or solidarily; default:
    each debtor by share what was claimed from him and his part of the fee). ``awarded_kopecks`` (and
    ``awarded_costs_kopecks``) alone are accepted only for a case with one debtor. The act is published
    to ``court_decisions``, a row per defendant. ``lawsuit_filed`` claims for the price of its own day
    (:mod:`.lawsuit`: the debt still owed and the penalties accrued to ``happened_on``) and records the state
    fee of the claim for it (НК РФ ст. 333.19 п. 1 пп. 1) less the court order's fee, which is credited to
    it (ст. 333.20 п. 1 пп. 13); a decision's default awards are then the suit's amounts with the claim's
    whole fee as the court costs."""
    state = CaseState(state)
    row = conn.execute(
        "SELECT case_id, account_no, state, case_number, court_name, period_from, period_to,"
        " principal_kopecks, penalty_kopecks, state_fee_kopecks, awarded_kopecks"
        " FROM claims_cases WHERE case_id = %s FOR UPDATE",
        (case_id,),
    ).fetchone()
    if row is None:
        raise LookupError(f"case {case_id} does not exist")
    keys = (
        "case_id",
        "account_no",
        "state",
        "case_number",
        "court_name",
        "period_from",
        "period_to",
        "principal_kopecks",
        "penalty_kopecks",
        "state_fee_kopecks",
        "awarded_kopecks",
    )
    case = dict(zip(keys, row, strict=True))
    check_transition(CaseState(case["state"]), state)
    if state is CaseState.ORDER_CANCELLED and CaseState(case["state"]) is CaseState.ENFORCEMENT:
        act = conn.execute(
            "SELECT state FROM claims_case_steps WHERE case_id = %s AND state = ANY(%s)"
            " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
            (case_id, [s.value for s in DECISION_STATES]),
        ).fetchone()
        if act is None or act[0] != CaseState.ORDER_ISSUED.value:
            raise ValueError(
                f"case {case_id} is enforced under a court decision, not a court order: only an order is "
                "cancelled (ГПК РФ ст. 129); a decision is appealed"
            )
    if case_number is not None:
        case["case_number"] = case_number.strip()
    if court is not None:
        case["court_name"] = court.strip()
    if state in DECISION_STATES:
        if not case["case_number"]:
            raise ValueError(f"case {case_id}: a court order or decision needs its case number (номер дела)")
        awards = _court_act_awards(conn, case, awards, awarded_kopecks, awarded_costs_kopecks)
        case["awarded_kopecks"] = total_awarded(awards)
    conn.execute(
        "UPDATE claims_cases SET state = %s, case_number = %s, court_name = %s, awarded_kopecks = %s"
        " WHERE case_id = %s",
        (state.value, case["case_number"], case["court_name"], case["awarded_kopecks"], case_id),
    )
    step_details = dict(details or {})
    if state in DECISION_STATES:
        step_details["awarded_kopecks"] = case["awarded_kopecks"]
        if in_force_on is not None:  # kept, so marking the act repaid later does not lose it
            step_details["in_force_on"] = in_force_on.isoformat()
    step_id = conn.execute(
        "INSERT INTO claims_case_steps (case_id, state, happened_on, note, details, actor)"
        " VALUES (%s, %s, %s, %s, %s, %s) RETURNING step_id",
        (case_id, state.value, happened_on, note, Jsonb(step_details), actor),
    ).fetchone()[0]
    if state is CaseState.FILED and case["state_fee_kopecks"]:
        add_cost(
            conn,
            case_id,
            "state_fee",
            actor,
            paid_kopecks=case["state_fee_kopecks"],
            paid_on=happened_on,
            note="госпошлина за подачу заявления",
        )
    if state is CaseState.LAWSUIT_FILED:
        _record_lawsuit_fee(conn, case, step_id, happened_on, actor, fee_tables, tables)
    if state in DECISION_STATES:
        assert awards is not None
        _store_awards(conn, case_id, step_id, awards)
        awarded_costs = total_costs(awards)
        if awarded_costs:
            add_cost(
                conn,
                case_id,
                "state_fee",
                actor,
                awarded_kopecks=awarded_costs,
                note="судебные расходы, присуждённые к возмещению",
            )
        _publish(conn, case, None, in_force_on)
    elif state in (CaseState.ORDER_CANCELLED, CaseState.CLOSED_PAID):
        _publish(conn, case, happened_on, None)
    if state is CaseState.ORDER_CANCELLED:
        _withdraw_order_costs(conn, case_id, actor)
    return step_id


def _withdraw_order_costs(conn: psycopg.Connection, case_id: int, actor: str) -> None:
    """The court costs the cancelled order awarded are no longer owed: a correcting line with them negated
    (the order's line stays as it was recorded)."""
    order = conn.execute(
        "SELECT step_id FROM claims_case_steps WHERE case_id = %s AND state = 'order_issued'"
        " ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id,),
    ).fetchone()
    awarded = total_costs(court_act_awards(conn, order[0])) if order else 0
    if awarded:
        add_cost(
            conn,
            case_id,
            "state_fee",
            actor,
            awarded_kopecks=-awarded,
            note="судебный приказ отменён: присуждённые им судебные расходы не взыскиваются",
        )


def _record_lawsuit_fee(
    conn: psycopg.Connection,
    case: dict,
    step_id: int,
    filed_on: date,
    actor: str,
    fee_tables: StateFeeTables | None,
    tables: PenaltyTables | None,
) -> None:
    """The claim (исковое заявление) after a refused or cancelled court order: its price — the debt of the
    case's lines still owed on ``filed_on`` and the penalties accrued to that day (:mod:`.lawsuit`, kept in
    ``claims_suit_debts``) — and its fee for that price (НК РФ ст. 333.19 п. 1 пп. 1, the schedule of
    ``filed_on``), of which the fee paid for the court order is credited (ст. 333.20 п. 1 пп. 13) — the rest
    is paid on filing. Kept on the step (``suit_principal_kopecks``, ``suit_penalty_kopecks``,
    ``price_kopecks``, ``claim_fee_kopecks``, ``credited_kopecks``) and as a court cost paid."""
    lines = suit_claim(conn, case["case_id"], filed_on, tables)
    principal = sum(kind_total(parts, "principal") for parts in lines.values())
    penalty = sum(kind_total(parts, "penalty") for parts in lines.values())
    if principal + penalty == 0:
        raise ValueError(
            f"case {case['case_id']}: on {filed_on:%d.%m.%Y} the account owes nothing of the debts the case "
            "claimed; there is nothing to sue for (close the case as paid)"
        )
    store_suit_lines(conn, case["case_id"], step_id, lines)
    fee = state_fee(principal + penalty, filed_on, court_order=False, tables=fee_tables)
    credited = conn.execute(
        "SELECT coalesce(sum(paid_kopecks), 0) FROM claims_case_costs"
        " WHERE case_id = %s AND kind = 'state_fee'",
        (case["case_id"],),
    ).fetchone()[0]
    credited = min(int(credited), fee.amount_kopecks)
    due = fee.amount_kopecks - credited
    conn.execute(
        "UPDATE claims_case_steps SET details = details || %s WHERE step_id = %s",
        (
            Jsonb(
                {
                    "state_fee": fee.formula,
                    "suit_principal_kopecks": principal,
                    "suit_penalty_kopecks": penalty,
                    "price_kopecks": principal + penalty,
                    "claim_fee_kopecks": fee.amount_kopecks,
                    "credited_kopecks": credited,
                }
            ),
            step_id,
        ),
    )
    if due:
        add_cost(
            conn,
            case["case_id"],
            "state_fee",
            actor,
            paid_kopecks=due,
            paid_on=filed_on,
            note=(
                f"госпошлина по иску {fee.amount_kopecks // 100} ₽, из неё зачтена уплаченная за судебный "
                f"приказ {credited // 100} ₽ (НК РФ ст. 333.20 п. 1 пп. 13)"
            ),
        )


def _claim_fee_of_lawsuit(conn: psycopg.Connection, case_id: int) -> int | None:
    """The claim's whole fee when the case went to a lawsuit (its latest ``lawsuit_filed`` step) or None."""
    row = conn.execute(
        "SELECT (details->>'claim_fee_kopecks')::bigint FROM claims_case_steps"
        " WHERE case_id = %s AND state = 'lawsuit_filed' ORDER BY happened_on DESC, step_id DESC LIMIT 1",
        (case_id,),
    ).fetchone()
    return None if row is None else row[0]


def add_cost(
    conn: psycopg.Connection,
    case_id: int,
    kind: str,
    actor: str,
    *,
    paid_kopecks: int = 0,
    paid_on: date | None = None,
    awarded_kopecks: int = 0,
    note: str = "",
) -> int:
    """A court cost of the case: paid by the claimant and/or awarded against the debtors (a negative
    ``awarded_kopecks``, paying nothing, withdraws what a cancelled act awarded)."""
    if kind not in COST_KINDS:
        raise ValueError(f"cost kind {kind!r} is not one of {', '.join(COST_KINDS)}")
    if paid_kopecks < 0 or (awarded_kopecks < 0 and paid_kopecks):
        raise ValueError("a court cost pays a positive amount; only a correcting line awards less than 0")
    return conn.execute(
        "INSERT INTO claims_case_costs (case_id, kind, paid_kopecks, paid_on, awarded_kopecks, note, actor)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING cost_id",
        (case_id, kind, paid_kopecks, paid_on, awarded_kopecks, note, actor),
    ).fetchone()[0]


def attach_document(
    conn: psycopg.Connection,
    case_id: int,
    kind: str,
    file_name: str,
    mime: str,
    content: bytes,
    actor: str,
    step_id: int | None = None,
) -> int:
    """Keep a document of the case (the application printed, the court's order, the writ …), attached to
    ``step_id`` or, by default, to the case's latest step."""
    if not content:
        raise ValueError(f"{file_name}: the document is empty")
    if step_id is None:
        step_id = conn.execute(
            "SELECT max(step_id) FROM claims_case_steps WHERE case_id = %s", (case_id,)
        ).fetchone()[0]
        if step_id is None:
            raise LookupError(f"case {case_id} does not exist")
    return conn.execute(
        "INSERT INTO claims_case_documents (case_id, step_id, kind, file_name, mime, content, sha256,"
        " uploaded_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING document_id",
        (case_id, step_id, kind, file_name, mime, content, hashlib.sha256(content).hexdigest(), actor),
    ).fetchone()[0]


def case_timeline(conn: psycopg.Connection, case_id: int) -> list[CaseStep]:
    """The case's steps in the order they happened, with the documents attached to each."""
    documents: dict[int, list[tuple[int, str, str]]] = {}
    for document_id, step_id, kind, name in conn.execute(
        "SELECT document_id, step_id, kind, file_name FROM claims_case_documents WHERE case_id = %s"
        " ORDER BY document_id",
        (case_id,),
    ):
        documents.setdefault(step_id, []).append((document_id, kind, name))
    return [
        CaseStep(step_id, CaseState(state), day, note, details, actor, tuple(documents.get(step_id, ())))
        for step_id, state, day, note, details, actor in conn.execute(
            "SELECT step_id, state, happened_on, note, details, actor FROM claims_case_steps"
            " WHERE case_id = %s ORDER BY happened_on, step_id",
            (case_id,),
        )
    ]
