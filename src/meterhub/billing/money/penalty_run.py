"""Penalties (пени) of a building computed during the close of a period, and the close's money step.

:func:`run_penalties` ``(conn, building_id, period)`` computes, for every debt of the building's accounts
(one account × earlier billing period D over its services: charge lines plus the recalculations booked in
D), the penalty accrued up to the last day of ``period`` with
:func:`~meterhub.billing.rules.debt_penalty.compute_debt_penalty` — the payments credited to each service
(``payment_allocations``, principal) reduce its base from the day after each payment; the debt's penalty is
summed unrounded over its services and rounded **once** (Decision 2), then split per service by the
largest remainder, ties in receipt order (Decision 10) — and stores per debt and service the running
total ``accrued_kopecks`` (the service's part of the debt's rounded penalty) and ``amount_kopecks`` = what
this period adds over the previous closing period's part. ``details`` carries the service's runs of days
and the debt's once-rounded total. Storage (migration 0171, docs/billing-money.md "How penalties are
stored"): one ``penalty_accruals`` row per account × service × closing period holding its debts as
arrays, the runs of debts without payments once per debt period in ``penalty_walks``, a paid-off debt's
last state in ``penalty_settled``; the ``penalty_lines`` view shows one row per debt × service as before.
The receipt shows Σ ``amount_kopecks`` of the period as the separate penalty line (неустойка); the ledger
counts it in ``penalties``.

:func:`~meterhub.billing.money.penalty_debts.penalties_accrued_to` gives an account's penalties accrued up
to a
day (for a payment designated for penalties, Decision 9), computed the same way.

:func:`close_money` is the one call the close makes (inside its transaction, after the charges are
written): service recalculations (absence, interruptions) → penalties → advances applied to the new debts.
A draft re-run deletes and recomputes everything this step wrote for the period.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from meterhub.billing.money.opening_balances import (
    OpeningDebt,
    opening_principal,
    penalty_baseline,
)
from meterhub.billing.money.penalty_debts import credited_payments, debt_units, load_debts
from meterhub.billing.rules.debt_penalty import ServiceDebt, compute_debt_penalty
from meterhub.billing.rules.payment_allocation import service_receipt_key, split_kopecks
from meterhub.billing.rules.penalties import (
    DebtPayment,
    PenaltyDebt,
    PenaltyResult,
    PenaltyRules,
    PenaltyTables,
    compute_penalty,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money, to_kopecks

__all__ = ["MoneyCloseResult", "PenaltyRunResult", "close_money", "run_penalties"]


@dataclass(frozen=True, slots=True)
class PenaltyRunResult:
    building: str
    period: str
    as_of: date
    debts: int
    """Penalty lines stored (one per debt × service)."""
    added_kopecks: int
    """Σ amount_kopecks: penalties this period adds."""


@dataclass(frozen=True, slots=True)
class MoneyCloseResult:
    recalculation_lines: int
    recalculated_kopecks: int
    penalties: PenaltyRunResult
    advance_applied_kopecks: int


_ACCOUNTS = "SELECT account_no FROM accounts WHERE building_id = %(building)s"
# The latest stored state of every debt × service before ``period``: the entries of each account and
# service's latest row (an open debt is in every closing's row while it accrues) and, for a debt paid off
# and skipped since, its settled state — the newer of the two (merged in :func:`_previous_states`).
_LATEST = """
SELECT DISTINCT ON (account_no, service) account_no, service, closing_period, as_of, debt_periods,
       accrued_kopecks, unpaid_kopecks
  FROM penalty_accruals WHERE building_id = %(building)s AND closing_period < %(period)s
 ORDER BY account_no, service, closing_period DESC
"""
_SETTLED = """
SELECT account_no, service, closing_period, as_of, debt_period, accrued_kopecks, unpaid_kopecks
  FROM penalty_settled WHERE building_id = %(building)s AND closing_period < %(period)s
"""
# What an earlier run of the closing period wrote, deleted in one statement (the three tables reference
# only billing_periods, so the order of the deletes does not matter).
_DELETE_EARLIER_RUN = """
WITH walks AS (
    DELETE FROM penalty_walks WHERE building_id = %(building)s AND closing_period = %(period)s
), settled AS (
    DELETE FROM penalty_settled WHERE building_id = %(building)s AND closing_period = %(period)s
)
DELETE FROM penalty_accruals WHERE building_id = %(building)s AND closing_period = %(period)s
"""
_ACCRUAL_COLUMNS = (
    "building_id, closing_period, account_no, service, as_of, amount_kopecks, debt_periods, due_dates,"
    " principal_kopecks, unpaid_kopecks, rate_days, rate_percents, days_overdue, accrued_exact,"
    " accrued_kopecks, amounts_kopecks, formulas, details"
)
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


class _Walk:
    """The calendar walk of a debt period's debts without payments, shared by all of them.

    Without payments the walk of :func:`compute_penalty` over the calendar (runs of days, their counters,
    divisors, moratorium days) and the rate day (the calculation day) do not depend on the principal; only
    each run's base and amount do. :meth:`scaled` recomputes the penalty for another principal with the
    same expression as :func:`~meterhub.billing.rules.penalties._line` — B × r × days / (100 × divisor),
    exact products at the engine's precision, one division — summed as :func:`compute_penalty` does. The
    runs themselves are stored once per building, closing and debt period (``penalty_walks``), not per debt.
    """

    __slots__ = ("accrues", "notes", "parts", "result", "runs", "stored")

    def __init__(self, result: PenaltyResult) -> None:
        self.result = result
        self.accrues = any(line.divisor for line in result.lines)
        self.parts = [(line.days, line.divisor) for line in result.lines]
        self.notes = json.dumps(list(result.notes), ensure_ascii=False)
        self.runs = json.dumps(
            [
                {
                    "first_day": line.first_day.isoformat(),
                    "last_day": line.last_day.isoformat(),
                    "first_k": line.first_k,
                    "days": line.days,
                    "divisor": line.divisor,
                }
                for line in result.lines
            ]
        )
        self.stored = False
        """Whether a debt of this walk was stored (its runs are then written to ``penalty_walks``)."""

    def scaled(self, base: Decimal) -> Decimal:
        """Σ of the runs' exact amounts [₽] of a principal ``base`` [₽]."""
        rate = self.result.rate_percent
        total = _ZERO
        with engine_context():
            for days, divisor in self.parts:
                total += base * rate * days / (_HUNDRED * divisor) if divisor else _ZERO
        return total


def _lines_json(result: PenaltyResult) -> str:
    return json.dumps(
        [
            {
                "first_day": line.first_day.isoformat(),
                "last_day": line.last_day.isoformat(),
                "first_k": line.first_k,
                "days": line.days,
                "base": str(line.base),
                "divisor": line.divisor,
                "amount_exact": str(line.amount_exact),
            }
            for line in result.lines
        ]
    )


def _previous_states(
    conn: psycopg.Connection, params: dict[str, str]
) -> tuple[dict[tuple[str, str, str], tuple[int, int, date]], set[tuple[str, str, str]]]:
    """(account, debt period, service) → (accrued, unpaid [kopecks], as_of) of the latest stored state, and
    the keys whose latest state is a settled one (``penalty_settled``)."""
    states: dict[tuple[str, str, str], tuple[str, tuple[int, int, date]]] = {}
    for account_no, service, closing, as_of, debt_periods, accrued, unpaid in conn.execute(_LATEST, params):
        for debt_period, accrued_kopecks, unpaid_kopecks in zip(debt_periods, accrued, unpaid, strict=True):
            states[(account_no, debt_period, service)] = (closing, (accrued_kopecks, unpaid_kopecks, as_of))
    settled = set()
    for account_no, service, closing, as_of, debt_period, accrued_kopecks, unpaid_kopecks in conn.execute(
        _SETTLED, params
    ):
        key = (account_no, debt_period, service)
        known = states.get(key)
        if known is None or known[0] <= closing:
            states[key] = (closing, (accrued_kopecks, unpaid_kopecks, as_of))
            settled.add(key)
    return {key: state for key, (_, state) in states.items()}, settled


def _array(values: list) -> str:
    """A PostgreSQL array literal of numbers, dates or plain words (COPY text; faster than the dumper)."""
    return "{" + ",".join(map(str, values)) + "}"


def _text_array(values: list[str]) -> str:
    """A PostgreSQL array literal of any text, each element quoted."""
    quoted = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in quoted) + "}"


def _details(
    lines: str | None, notes: str, principal: int, exact: Decimal, accrued: int, services: int
) -> str:
    """The ``details`` JSON of a penalty line (jsonb): the service's runs of days, the notes, and the debt
    (all its services) whose penalty was rounded once and split (Decisions 2, 10). Without ``lines`` (a
    debt without payments) only the debt: the ``penalty_lines`` view adds the runs and notes of its walk
    (``penalty_walks``) with the service's base."""
    debt = (
        f'"debt": {{"principal_kopecks": {principal}, "accrued_exact": "{exact}", '
        f'"accrued_kopecks": {accrued}, "services": {services}, '
        '"split": "largest remainder, ties in receipt order"}'
    )
    if lines is None:
        return f"{{{debt}}}"
    return f'{{"lines": {lines}, "notes": {notes}, {debt}}}'


def run_penalties(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    tables: PenaltyTables | None = None,
    rules: PenaltyRules | None = None,
    *,
    accounts: list[str] | None = None,
) -> PenaltyRunResult:
    """Compute and store the penalty lines of ``building_id`` for closing period ``period`` (``accounts``:
    the building's accounts when the caller has them; read here otherwise).

    The calculation day is the last day of ``period``; debts of earlier periods only. Earlier lines of
    this closing period are replaced. A debt fully paid by the previous calculation whose penalty was
    already stored is skipped (its penalty cannot change). Raises ``LookupError`` (naming the account) when
    the penalty tables do not cover a day they are asked about.

    Debts without payments share one calendar walk per debt period (:class:`_Walk`); a debt whose walk
    accrues nothing (still inside the 30 free days) and had no earlier penalty stores nothing. The lines
    are stored as one ``penalty_accruals`` row per account and service (its debts as arrays), the walks
    once per debt period (``penalty_walks``), and a debt paid off in full also in ``penalty_settled``.
    """
    tables = tables or PenaltyTables.default()
    text = str(period)
    as_of = period.end_day - timedelta(days=1)
    params = {"building": building_id, "period": text}
    conn.execute(_DELETE_EARLIER_RUN, params)
    if accounts is None:
        accounts = [row[0] for row in conn.execute(_ACCOUNTS, {"building": building_id})]
    debts, payments = load_debts(conn, accounts, text)
    if not debts:  # no debt of an earlier period (a building's first close): nothing to compute or store
        return PenaltyRunResult(building_id, text, as_of, 0, 0)
    previous, settled_before = _previous_states(conn, params)
    opening = opening_principal(conn, accounts)  # legacy debts: their own due date and cutover
    periods: dict[str, tuple[BillingPeriod, date | None]] = {}
    walks: dict[tuple[str, date], _Walk] = {}
    orders: dict[tuple[str, ...], list[str]] = {}  # services in receipt order, per set of services
    rows: dict[tuple[str, str], list[tuple]] = {}  # (account, service) → its debts' entries
    settled = []
    entries = added = 0
    for account_no, debt_period, billing_period, due, cutover, principals in debt_units(
        debts, opening, periods, tables
    ):
        if due >= as_of:
            continue
        names = tuple(principals)
        services = orders.get(names)
        if services is None:
            services = orders[names] = sorted(names, key=service_receipt_key)
        credited = {
            s: credited_payments(principals[s], paid)
            if (paid := payments.get((account_no, debt_period, s)))
            else []
            for s in services
        }
        prevs = {s: previous.get((account_no, debt_period, s)) for s in services}
        stored = any(prevs.values())
        if cutover is not None and not stored:  # accrual before the cutover is the legacy's
            legacy = OpeningDebt(due, cutover)
            try:
                base = penalty_baseline(legacy, billing_period, principals, tables, rules)
            except LookupError as exc:
                raise LookupError(f"penalty of account {account_no}, {debt_period}: {exc}") from exc
            day = cutover - timedelta(days=1)
            prevs = {s: (base[s], principals[s], day) for s in services}
        seen = [prev[2] for prev in prevs.values() if prev is not None]
        if seen and _paid_off_by(principals, credited, max(seen)):
            # paid off before the previous calculation: nothing changes. A debt paid (or an advance applied
            # to it) after that calculation, by a payment dated before it, is settled only now: its last
            # state is kept (penalty_settled), as the later closing rows will no longer carry it.
            if stored:
                settled.extend(
                    (building_id, text, account_no, s, debt_period, *prev)
                    for s, prev in prevs.items()
                    if prev is not None and (account_no, debt_period, s) not in settled_before
                )
            continue
        try:
            computed = _debt_penalty(
                billing_period, due, as_of, principals, credited, walks, tables, rules, bool(seen)
            )
        except LookupError as exc:
            raise LookupError(f"penalty of account {account_no}, {debt_period}: {exc}") from exc
        if computed is None:
            continue  # nothing accrues yet (free days, moratorium) and nothing was stored before
        unpaid = {
            s: principals[s] - sum(to_kopecks(p.amount) for p in credited[s] if p.day <= as_of)
            if credited[s]
            else principals[s]
            for s in services
        }
        paid_off = not any(unpaid.values())
        last_day = computed.rate_day if paid_off else as_of
        principal = sum(principals.values())
        details_of = computed.notes, principal, computed.exact, computed.accrued, len(services)
        for service, (service_exact, lines, share) in zip(services, computed.parts, strict=True):
            prev = prevs[service]
            amount = share - (prev[0] if prev else 0)
            if not share and not amount:
                continue
            if computed.walk is not None:
                computed.walk.stored = True
            rows.setdefault((account_no, service), []).append(
                (
                    debt_period,
                    due,
                    principals[service],
                    unpaid[service],
                    computed.rate_day,
                    computed.rate,
                    max(0, (last_day - due).days),
                    service_exact,
                    share,
                    amount,
                    computed.formula,
                    _details(lines, *details_of),
                )
            )
            if paid_off:
                settled.append((building_id, text, account_no, service, debt_period, share, 0, as_of))
            entries += 1
            added += amount
    with conn.cursor() as cur:
        with cur.copy(f"COPY penalty_accruals ({_ACCRUAL_COLUMNS}) FROM STDIN") as copy:
            for (account_no, service), debt_entries in rows.items():
                debt_entries.sort(key=lambda entry: entry[0])
                (
                    periods,
                    dues,
                    principal,
                    unpaid,
                    rate_days,
                    rates,
                    overdue,
                    exact,
                    accrued,
                    amounts,
                    formulas,
                    details,
                ) = zip(*debt_entries, strict=True)
                copy.write_row(
                    (
                        building_id,
                        text,
                        account_no,
                        service,
                        as_of,
                        sum(amounts),
                        _array(periods),
                        _array(dues),
                        _array(principal),
                        _array(unpaid),
                        _array(rate_days),
                        _array(rates),
                        _array(overdue),
                        _array(exact),
                        _array(accrued),
                        _array(amounts),
                        _text_array(formulas),
                        f"[{', '.join(details)}]",
                    )
                )
        with cur.copy(
            "COPY penalty_walks (building_id, closing_period, debt_period, due_date, rate_percent, notes,"
            " runs) FROM STDIN"
        ) as copy:
            for (debt_period, due), walk in walks.items():
                if walk.stored:
                    copy.write_row(
                        (building_id, text, debt_period, due, walk.result.rate_percent, walk.notes, walk.runs)
                    )
        if settled:
            with cur.copy(
                "COPY penalty_settled (building_id, closing_period, account_no, service, debt_period,"
                " accrued_kopecks, unpaid_kopecks, as_of) FROM STDIN"
            ) as copy:
                for row in settled:
                    copy.write_row(row)
    return PenaltyRunResult(building_id, text, as_of, entries, added)


@dataclass(frozen=True, slots=True)
class _Computed:
    """One debt's penalty as :func:`run_penalties` stores it."""

    rate_day: date
    rate: Decimal
    formula: str
    notes: str
    """JSON list of notes (moratoria)."""
    exact: Decimal
    """The debt's exact penalty [₽] (Σ over its services)."""
    accrued: int
    """The debt's penalty rounded once [kopecks]."""
    parts: list[tuple[Decimal, str | None, int]]
    """Per service in receipt order: (exact [₽], runs of days JSON or ``None`` for a debt of a shared walk,
    part of ``accrued`` [kopecks])."""
    walk: _Walk | None = None
    """The shared walk of a debt without payments (its runs are stored once, in ``penalty_walks``)."""


def _debt_penalty(
    period: BillingPeriod,
    due: date,
    as_of: date,
    principals: dict[str, int],
    credited: dict[str, list[DebtPayment]],
    walks: dict[tuple[str, date], _Walk],
    tables: PenaltyTables,
    rules: PenaltyRules | None,
    stored_before: bool,
) -> _Computed | None:
    """The penalty of one debt (services in receipt order, as ``credited`` lists them): with payments
    through :func:`compute_debt_penalty`; without, by the debt period's shared calendar walk — ``None`` when
    that walk accrues nothing and nothing was ``stored_before`` (the debt is skipped)."""
    services = list(credited)
    if any(credited.values()):
        debt = compute_debt_penalty(
            period,
            due,
            [ServiceDebt(s, Decimal(principals[s]).scaleb(-2), tuple(credited[s])) for s in services],
            as_of=as_of,
            tables=tables,
            rules=rules,
        )
        notes = json.dumps(
            list(dict.fromkeys(n for part in debt.services for n in part.result.notes)), ensure_ascii=False
        )
        parts = [
            (part.result.amount_exact, _lines_json(part.result), to_kopecks(part.amount))
            for part in debt.services
        ]
        formula, accrued = debt.services[0].result.formula, to_kopecks(debt.amount)
        exact = debt.amount_exact
        return _Computed(debt.rate_day, debt.rate_percent, formula, notes, exact, accrued, parts)
    walk = walks.get((str(period), due))
    if walk is None:
        first = PenaltyDebt(period, Decimal(principals[services[0]]).scaleb(-2), due)
        walk = _Walk(compute_penalty(first, as_of=as_of, tables=tables, rules=rules))
        walks[(str(period), due)] = walk
    if not walk.accrues and not stored_before:
        return None
    scaled = [walk.scaled(Decimal(principals[s]).scaleb(-2)) for s in services]
    with engine_context():
        exact = sum(scaled, _ZERO)
    rounded = round_money(exact)
    # without payments each service's exact penalty is its principal × the same walk factor, so the
    # largest-remainder split by exact amounts is the exact integer split by principal (kopecks)
    shares = split_kopecks(to_kopecks(rounded), [principals[s] for s in services]) if rounded else None
    parts: list[tuple[Decimal, str | None, int]] = [
        (e, None, shares[i] if shares else 0) for i, e in enumerate(scaled)
    ]
    r = walk.result
    accrued = to_kopecks(rounded)
    return _Computed(r.rate_day, r.rate_percent, r.formula, walk.notes, exact, accrued, parts, walk)


def _paid_off_by(principals: dict[str, int], credited: dict[str, list[DebtPayment]], day: date) -> bool:
    """Whether every service of the debt was paid in full by ``day``."""
    return all(
        sum(to_kopecks(p.amount) for p in credited[s] if p.day <= day) == principal
        for s, principal in principals.items()
    )


def close_money(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    tables: PenaltyTables | None = None,
) -> MoneyCloseResult:
    """The money step of the close of ``period`` (call inside the close's transaction, after its charges
    are written): service recalculations, then penalties, then advances applied to the new debts."""
    from meterhub.billing.close.service_recalculations import run_service_recalculations
    from meterhub.billing.money.benefits import run_benefits
    from meterhub.billing.money.posting import apply_advances, undo_advance_applications
    from meterhub.billing.money.suppliers.own_charges import write_supplier_charges

    tables = tables or PenaltyTables.default()
    # a draft re-run starts from the payments alone; the accounts stay locked to the end of the close
    accounts = undo_advance_applications(conn, building_id, period)
    write_supplier_charges(conn, building_id, period)  # a supplier's own charges (docs/suppliers.md)
    recalc = run_service_recalculations(conn, building_id, period)
    run_benefits(conn, building_id, period)  # discount-regime benefits as 'benefit' recalculation lines
    penalties = run_penalties(conn, building_id, period, tables, accounts=accounts)
    applied = apply_advances(conn, building_id, period, tables, locked_accounts=accounts)
    return MoneyCloseResult(len(recalc), sum(line.amount_kopecks for line in recalc), penalties, applied)
