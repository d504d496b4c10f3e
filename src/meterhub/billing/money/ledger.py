"""Balances (сальдо) per account × service × period and the payment history — read side of the money ledger.

Public interface agreed with the receipts and API helpers (notes/api-contract.md, "Ledger"):

* :func:`account_balances` ``(conn, period, *, building_id=None, account_nos=None)`` →
  ``{account_no: [ServiceBalance, ...]}``;
* :func:`payment_history` ``(conn, account_no)`` → ``[PostedPayment, ...]`` (newest first).

Every amount is **integer kopecks**. For one account, service and period ``P``::

    opening     = Σ over periods < P of (charged + recalculated + penalties − paid)
    closing     = opening + charged + recalculated + penalties − paid

* ``charged`` — Σ ``charge_lines.amount`` of period P (draft or closed); for a period before the
  building's cutover, the legacy principal debts imported for it (``opening_debts``, docs/migration.md);
* ``recalculated`` — Σ ``recalculation_lines.amount`` booked in P (corrections of closed periods) plus
  Σ ``service_recalculation_lines`` of P (temporary absence, interruptions / poor quality);
* ``penalties`` — Σ ``penalty_lines.amount_kopecks`` with closing period P (пени added by P's close; read
  as ``penalty_accruals.amount_kopecks``, the same sum kept per account × service × closing period),
  and the legacy penalties still unpaid at the cutover imported for a period before it;
* ``paid`` — Σ ``payment_allocations`` booked in P (principal and penalty parts of payments; an advance
  applied to a debt during a close counts as paid on the service it paid and as negative paid on
  :data:`ADVANCE_SERVICE`).

A payment left over after every debt is an advance (аванс): it appears as the pseudo-service
:data:`ADVANCE_SERVICE` (``"advance"``) with a negative closing balance (a credit) until a later close
applies it to new charges. Σ closing over all services of an account is the account's total debt
(negative = overpayment). The identity above holds per row, so it holds for any sum of rows (a building,
the whole city) to the kopeck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "ADVANCE_SERVICE",
    "LEGACY_SOURCE",
    "PaymentAllocationPart",
    "PostedPayment",
    "ServiceBalance",
    "account_balances",
    "account_totals",
    "advance_by_payment",
    "outstanding_by_debt",
    "payment_history",
]

ADVANCE_SERVICE = "advance"
"""Pseudo-service of unapplied advances (аванс, переплата)."""


@dataclass(frozen=True, slots=True)
class ServiceBalance:
    """The balance of one account and service for one period [kopecks]."""

    account_no: str
    service: str
    period: str
    opening: int
    charged: int
    recalculated: int
    paid: int
    penalties: int
    closing: int

    @property
    def due(self) -> int:
        """``charged + recalculated`` of the period [kopecks] (без пеней и долга)."""
        return self.charged + self.recalculated


@dataclass(frozen=True, slots=True)
class PaymentAllocationPart:
    """Where part of a payment went [kopecks]; ``debt_period`` is ``None`` for the advance."""

    debt_period: str | None
    service: str
    kind: str  # principal / penalty / advance
    amount: int
    rule: str
    booked_period: str


@dataclass(frozen=True, slots=True)
class PostedPayment:
    """One posted payment and its allocation."""

    payment_id: str
    source: str
    account_no: str
    amount: int
    """[kopecks]"""
    paid_on: date
    period_named: str | None
    purpose: str
    posted_at: datetime
    file_name: str | None
    allocations: tuple[PaymentAllocationPart, ...]

    @property
    def advance(self) -> int:
        """Part of the payment still held as an advance [kopecks]."""
        return sum(a.amount for a in self.allocations if a.kind == "advance")


_MOVEMENTS = """
WITH acc AS (
    SELECT account_no FROM accounts
    WHERE (%(building)s::text IS NULL OR building_id = %(building)s)
      AND (%(accounts)s::text[] IS NULL OR account_no = ANY(%(accounts)s))
), mv AS (
    SELECT c.account_no, c.service, c.period,
           (c.amount * 100)::bigint AS charged, 0::bigint AS recalc, 0::bigint AS pen, 0::bigint AS paid
      FROM charge_lines c JOIN acc USING (account_no) WHERE c.period <= %(period)s
    UNION ALL
    SELECT r.account_no, r.service, r.period, 0, (r.amount * 100)::bigint, 0, 0
      FROM recalculation_lines r JOIN acc USING (account_no) WHERE r.period <= %(period)s
    UNION ALL
    SELECT s.account_no, s.service, s.period, 0, s.amount_kopecks, 0, 0
      FROM service_recalculation_lines s JOIN acc USING (account_no) WHERE s.period <= %(period)s
    UNION ALL
    SELECT p.account_no, p.service, p.closing_period, 0, 0, p.amount_kopecks, 0
      FROM penalty_accruals p JOIN acc USING (account_no) WHERE p.closing_period <= %(period)s
    UNION ALL
    SELECT a.account_no, a.service, a.booked_period, 0, 0, 0, a.amount_kopecks
      FROM payment_allocations a JOIN acc USING (account_no) WHERE a.booked_period <= %(period)s
    UNION ALL
    SELECT o.account_no, o.service, o.period, CASE WHEN o.kind = 'principal' THEN o.amount_kopecks ELSE 0 END,
           0, CASE WHEN o.kind = 'penalty' THEN o.amount_kopecks ELSE 0 END, 0
      FROM opening_debts o JOIN acc USING (account_no) WHERE o.period <= %(period)s
)
SELECT account_no, service,
       coalesce(sum(charged + recalc + pen - paid) FILTER (WHERE period < %(period)s), 0)::bigint,
       coalesce(sum(charged) FILTER (WHERE period = %(period)s), 0)::bigint,
       coalesce(sum(recalc) FILTER (WHERE period = %(period)s), 0)::bigint,
       coalesce(sum(paid) FILTER (WHERE period = %(period)s), 0)::bigint,
       coalesce(sum(pen) FILTER (WHERE period = %(period)s), 0)::bigint
  FROM mv
 GROUP BY account_no, service
 ORDER BY account_no, service = 'advance', service
"""


def _period_text(period: BillingPeriod | str) -> str:
    return str(period if isinstance(period, BillingPeriod) else BillingPeriod.parse(period))


def account_balances(
    conn: psycopg.Connection,
    period: BillingPeriod | str,
    *,
    building_id: str | None = None,
    account_nos: Sequence[str] | None = None,
) -> dict[str, list[ServiceBalance]]:
    """Balances of period ``period`` per account and service [kopecks] (see the module docstring).

    Filters: one building, and/or a list of accounts (default: the whole city). An account of the filter
    with no movement up to ``period`` maps to an empty list; services without any movement are left out.
    Rows of one account are ordered by service, the advance last.
    """
    text = _period_text(period)
    params = {
        "period": text,
        "building": building_id,
        "accounts": list(account_nos) if account_nos is not None else None,
    }
    result: dict[str, list[ServiceBalance]] = {no: [] for no in account_nos or ()}
    for account_no, service, opening, charged, recalc, paid, penalties in conn.execute(_MOVEMENTS, params):
        closing = opening + charged + recalc + penalties - paid
        result.setdefault(account_no, []).append(
            ServiceBalance(account_no, service, text, opening, charged, recalc, paid, penalties, closing)
        )
    return result


def account_totals(balances: Sequence[ServiceBalance]) -> ServiceBalance | None:
    """Σ of one account's service rows as one row with ``service = "*"`` (``None`` for no rows)."""
    if not balances:
        return None
    first = balances[0]
    return ServiceBalance(
        first.account_no,
        "*",
        first.period,
        sum(b.opening for b in balances),
        sum(b.charged for b in balances),
        sum(b.recalculated for b in balances),
        sum(b.paid for b in balances),
        sum(b.penalties for b in balances),
        sum(b.closing for b in balances),
    )


_HISTORY = """
SELECT p.payment_pk, p.payment_id, p.source, p.account_no, p.amount_kopecks, p.paid_on, p.period_named,
       p.purpose, p.posted_at, f.file_name
  FROM payments p LEFT JOIN payment_files f USING (file_id)
 WHERE p.account_no = %s
 ORDER BY p.paid_on DESC, p.payment_pk DESC
"""
_PARTS = """
SELECT payment_pk, debt_period, service, kind, amount_kopecks, rule, booked_period
  FROM payment_allocations WHERE account_no = %s
 ORDER BY payment_pk, allocation_id
"""


_LEGACY_HISTORY = """
SELECT payment_id, agent, account_no, amount_kopecks, paid_on, period_named, purpose, imported_at
  FROM legacy_payments WHERE account_no = %s
"""
LEGACY_SOURCE = "legacy"
"""``PostedPayment.source`` of a payment received by the legacy system before the cutover."""


def payment_history(conn: psycopg.Connection, account_no: str) -> list[PostedPayment]:
    """Every posted payment of ``account_no``, newest first, with where each kopeck went.

    Payments the legacy system received before the cutover (docs/migration.md) are included with source
    ``legacy`` (``legacy:<agent>`` when it named the bank or agent) and no allocation: the opening
    balances are already net of them."""
    parts: dict[int, list[PaymentAllocationPart]] = {}
    for pk, debt_period, service, kind, amount, rule, booked in conn.execute(_PARTS, (account_no,)):
        part = PaymentAllocationPart(debt_period, service, kind, amount, rule, booked)
        parts.setdefault(pk, []).append(part)
    legacy = [
        PostedPayment(
            payment_id=payment_id,
            source=f"{LEGACY_SOURCE}:{agent}" if agent else LEGACY_SOURCE,
            account_no=acc,
            amount=amount,
            paid_on=paid_on,
            period_named=period_named,
            purpose=purpose,
            posted_at=imported_at,
            file_name=None,
            allocations=(),
        )
        for payment_id, agent, acc, amount, paid_on, period_named, purpose, imported_at in conn.execute(
            _LEGACY_HISTORY, (account_no,)
        )
    ]
    posted = [
        PostedPayment(
            payment_id=payment_id,
            source=source,
            account_no=acc,
            amount=amount,
            paid_on=paid_on,
            period_named=period_named,
            purpose=purpose,
            posted_at=posted_at,
            file_name=file_name,
            allocations=tuple(parts.get(pk, ())),
        )
        for pk, payment_id, source, acc, amount, paid_on, period_named, purpose, posted_at, file_name in (
            conn.execute(_HISTORY, (account_no,))
        )
    ]
    if not legacy:
        return posted
    return sorted(posted + legacy, key=lambda p: p.paid_on, reverse=True)  # stable: posted order kept


_OUTSTANDING = """
WITH acc AS (SELECT unnest(%(accounts)s::text[]) AS account_no),
mv AS (
    SELECT c.account_no, c.period, 'principal' AS kind, c.service, (c.amount * 100)::bigint AS kopecks
      FROM charge_lines c JOIN acc USING (account_no)
    UNION ALL
    SELECT r.account_no, r.period, 'principal', r.service, (r.amount * 100)::bigint
      FROM recalculation_lines r JOIN acc USING (account_no)
    UNION ALL
    SELECT s.account_no, s.period, 'principal', s.service, s.amount_kopecks
      FROM service_recalculation_lines s JOIN acc USING (account_no)
    UNION ALL
    SELECT p.account_no, d.debt_period, 'penalty', p.service, d.amount_kopecks
      FROM penalty_accruals p JOIN acc USING (account_no),
           unnest(p.debt_periods, p.amounts_kopecks) AS d(debt_period, amount_kopecks)
    UNION ALL
    SELECT a.account_no, a.debt_period, a.kind, a.service, -a.amount_kopecks
      FROM payment_allocations a JOIN acc USING (account_no) WHERE a.kind <> 'advance'
    UNION ALL
    SELECT o.account_no, o.period, o.kind, o.service, o.amount_kopecks
      FROM opening_debts o JOIN acc USING (account_no)
)
SELECT account_no, period, kind, service, sum(kopecks)::bigint
  FROM mv GROUP BY account_no, period, kind, service
HAVING sum(kopecks) <> 0
 ORDER BY account_no, period, kind, service
"""

DebtKey = tuple[str, str]  # (debt period, kind: principal / penalty)


def outstanding_by_debt(
    conn: psycopg.Connection, account_nos: Sequence[str]
) -> dict[str, dict[DebtKey, dict[str, int]]]:
    """What each account still owes per (debt period, kind) and service [kopecks], all periods.

    Principal of period D = its charge lines + recalculations booked in D (+ a legacy opening debt of D)
    − principal allocated to D; penalty of D = Σ penalty lines of debt D (+ a legacy unpaid penalty of D)
    − penalty allocated to D. Negative values (a charge lowered
    after it was paid) are returned as they are; callers treat them as nothing owed.
    """
    result: dict[str, dict[DebtKey, dict[str, int]]] = {no: {} for no in account_nos}
    rows = conn.execute(_OUTSTANDING, {"accounts": list(account_nos)})
    for account_no, period, kind, service, kopecks in rows:
        result[account_no].setdefault((period, kind), {})[service] = kopecks
    return result


def advance_by_payment(
    conn: psycopg.Connection, account_nos: Sequence[str], paid_before: date | None = None
) -> dict[str, list[tuple[int, int]]]:
    """Unapplied advances per account: ``[(payment_pk, kopecks), ...]`` oldest payment first.

    ``paid_before`` keeps only payments made before that day (a close applies only advances it knows).
    """
    result: dict[str, list[tuple[int, int]]] = {no: [] for no in account_nos}
    rows = conn.execute(
        "SELECT a.account_no, a.payment_pk, sum(a.amount_kopecks)::bigint FROM payment_allocations a"
        " JOIN payments p USING (payment_pk)"
        " WHERE a.account_no = ANY(%s) AND a.kind = 'advance' AND (%s::date IS NULL OR p.paid_on < %s)"
        " GROUP BY a.account_no, a.payment_pk, p.paid_on HAVING sum(a.amount_kopecks) > 0"
        " ORDER BY a.account_no, p.paid_on, a.payment_pk",
        (list(account_nos), paid_before, paid_before),
    )
    for account_no, payment_pk, kopecks in rows:
        result[account_no].append((payment_pk, kopecks))
    return result
