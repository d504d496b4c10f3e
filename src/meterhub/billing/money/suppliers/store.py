"""The database side of the suppliers' money: configuration in force, commissions, balances per supplier.

* :func:`service_suppliers` / :func:`agent_contracts` load the validity-dated configuration (migration
  0160, imported as ``service_suppliers`` and ``agent_contracts`` files).
* :func:`record_commissions` computes the commission of every posted payment that has none yet, by the
  contract of its source in force on its payment date (payments of a source without a contract get none).
* :func:`supplier_balances` builds the balance per supplier for a period from the ledger's own tables
  (charges, recalculations, penalties, payment allocations), the commissions and the transfers. Two
  pseudo-payees make the sums close: :data:`ADVANCE_PAYEE` (money paid ahead, owed to no supplier yet; the
  commission on it is borne there) and :data:`UNASSIGNED_PAYEE` (services with no supplier configured).
  So Σ charged over the rows equals the ledger's charged + recalculated + penalties of the period, and Σ
  paid equals the ledger's paid, to the kopeck.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import psycopg

from meterhub.billing.money.ledger import ADVANCE_SERVICE
from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.suppliers import (
    AgentContract,
    CommissionBearer,
    ServiceSupplier,
    SupplierBalance,
    commission_kopecks,
    contract_in_force,
    split_commission,
    supplier_in_force,
)

__all__ = [
    "ADVANCE_PAYEE",
    "UNASSIGNED_PAYEE",
    "agent_contracts",
    "record_commissions",
    "service_suppliers",
    "supplier_balances",
    "supplier_of",
]

ADVANCE_PAYEE = "(advance)"
"""Pseudo-payee of money paid ahead (аванс): owed to no supplier until a close applies it to a debt."""
UNASSIGNED_PAYEE = "(unassigned)"
"""Pseudo-payee of services that have no supplier configured for the period."""


def service_suppliers(conn: psycopg.Connection) -> list[ServiceSupplier]:
    rows = conn.execute("SELECT building_id, service, valid_from, supplier_id FROM service_suppliers")
    return [ServiceSupplier(*row) for row in rows]


def agent_contracts(conn: psycopg.Connection) -> list[AgentContract]:
    rows = conn.execute(
        "SELECT source, valid_from, percent, minimum_kopecks, borne_by, contract_no FROM agent_contracts"
    )
    return [
        AgentContract(source, valid_from, percent, minimum, CommissionBearer(borne_by), contract_no)
        for source, valid_from, percent, minimum, borne_by, contract_no in rows
    ]


def supplier_of(rows: Sequence[ServiceSupplier], building_id: str, service: str, period: str) -> str:
    """The payee of a service's money of ``period`` (the supplier in force on its first day)."""
    if service == ADVANCE_SERVICE:
        return ADVANCE_PAYEE
    day = BillingPeriod.parse(period).first_day
    return supplier_in_force(rows, building_id, service, day) or UNASSIGNED_PAYEE


def record_commissions(conn: psycopg.Connection, payment_pks: Sequence[int] | None = None) -> int:
    """Record the commission of the posted payments that have none yet (all, or ``payment_pks``).

    Returns the number of commissions recorded. Idempotent: a payment's commission is computed once, by
    the contract in force on its payment date; a later contract never changes it."""
    contracts = agent_contracts(conn)
    if not contracts:
        return 0
    rows = conn.execute(
        "SELECT p.payment_pk, p.source, p.paid_on, p.amount_kopecks FROM payments p"
        " WHERE NOT EXISTS (SELECT 1 FROM payment_commissions c WHERE c.payment_pk = p.payment_pk)"
        " AND (%(pks)s::bigint[] IS NULL OR p.payment_pk = ANY(%(pks)s))"
        " AND p.source = ANY(%(sources)s)",
        {
            "pks": list(payment_pks) if payment_pks is not None else None,
            "sources": sorted({c.source for c in contracts}),
        },
    ).fetchall()
    recorded = []
    for payment_pk, source, paid_on, amount in rows:
        contract = contract_in_force(contracts, source, paid_on)
        if contract is None:
            continue
        fee = commission_kopecks(amount, contract.percent, contract.minimum_kopecks)
        bearer = contract.borne_by.value
        recorded.append((payment_pk, source, contract.valid_from, contract.percent, fee, bearer))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO payment_commissions (payment_pk, source, contract_from, percent, amount_kopecks,"
            " borne_by) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (payment_pk) DO NOTHING",
            recorded,
        )
    return len(recorded)


_CHARGED = """
SELECT a.building_id, m.service, m.map_period, sum(m.kopecks)::bigint
  FROM (
    SELECT account_no, service, period AS map_period, (amount * 100)::bigint AS kopecks
      FROM charge_lines WHERE period = %(p)s
    UNION ALL
    SELECT account_no, service, period, (amount * 100)::bigint FROM recalculation_lines WHERE period = %(p)s
    UNION ALL
    SELECT account_no, service, period, amount_kopecks FROM service_recalculation_lines WHERE period = %(p)s
    UNION ALL
    SELECT account_no, service, d.debt_period, d.amount_kopecks
      FROM penalty_accruals, unnest(debt_periods, amounts_kopecks) AS d(debt_period, amount_kopecks)
     WHERE closing_period = %(p)s
    UNION ALL
    SELECT account_no, service, period, amount_kopecks FROM opening_debts WHERE period = %(p)s
  ) m JOIN accounts a USING (account_no)
 GROUP BY a.building_id, m.service, m.map_period
"""
_PAID = """
SELECT a.building_id, x.service, coalesce(x.debt_period, x.booked_period), sum(x.amount_kopecks)::bigint
  FROM payment_allocations x JOIN accounts a USING (account_no)
 WHERE x.booked_period = %(p)s
 GROUP BY 1, 2, 3
"""
_WITHHELD = """
SELECT c.payment_pk, c.amount_kopecks, a.building_id, x.service, coalesce(x.debt_period, x.booked_period),
       sum(x.amount_kopecks)::bigint
  FROM payment_commissions c
  JOIN payment_allocations x ON x.payment_pk = c.payment_pk AND x.applied_in IS NULL
  JOIN accounts a ON a.account_no = x.account_no
 WHERE c.borne_by = 'supplier' AND x.booked_period = %(p)s AND c.amount_kopecks > 0
 GROUP BY 1, 2, 3, 4, 5
 ORDER BY 1
"""


def _payee_order(payee: str) -> tuple[int, str]:
    return (1 if payee in (ADVANCE_PAYEE, UNASSIGNED_PAYEE) else 0, payee)


def withheld_by_payee(
    conn: psycopg.Connection, period: str, rows: Sequence[ServiceSupplier]
) -> dict[str, int]:
    """Commissions borne by the suppliers of payments booked in ``period``, split per payee [kopecks]."""
    parts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    fees: dict[int, int] = {}
    services: dict[int, dict[str, str]] = defaultdict(dict)
    for pk, fee, building, service, debt_period, kopecks in conn.execute(_WITHHELD, {"p": period}):
        payee = supplier_of(rows, building, service, debt_period)
        parts[pk][payee] += kopecks
        fees[pk] = fee
        services[pk].setdefault(payee, service)
    result: dict[str, int] = defaultdict(int)
    for pk, by_payee in parts.items():
        # payees in receipt order of their first service (Decision 10 ties), the pseudo-payees last
        ordered = sorted(
            by_payee.items(),
            key=lambda item: (_payee_order(item[0])[0], service_receipt_key(services[pk][item[0]]), item[0]),
        )
        for payee, share in split_commission(fees[pk], ordered):
            result[payee] += share
    return result


def _period_sums(
    conn: psycopg.Connection, sql: str, period: str, rows: Sequence[ServiceSupplier]
) -> dict[str, int]:
    result: dict[str, int] = defaultdict(int)
    for building, service, map_period, kopecks in conn.execute(sql, {"p": period}):
        result[supplier_of(rows, building, service, map_period)] += kopecks
    return result


def supplier_balances(conn: psycopg.Connection, period: BillingPeriod | str) -> list[SupplierBalance]:
    """The balance per supplier (and pseudo-payee) for ``period`` [kopecks], with the owed opening carried
    from every earlier period (see the module docstring). Rows ordered by supplier, pseudo-payees last."""
    text = str(period)
    rows = service_suppliers(conn)
    earlier = [
        p
        for (p,) in conn.execute(
            "SELECT DISTINCT booked_period FROM payment_allocations WHERE booked_period < %(p)s"
            " UNION SELECT DISTINCT period FROM supplier_transfers WHERE period < %(p)s ORDER BY 1",
            {"p": text},
        )
    ]
    opening: dict[str, int] = defaultdict(int)
    for past in earlier:
        for balance in _balances_of(conn, past, rows, {}):
            opening[balance.supplier_id] += balance.owed
    return _balances_of(conn, text, rows, opening)


def _balances_of(
    conn: psycopg.Connection, period: str, rows: Sequence[ServiceSupplier], opening: dict[str, int]
) -> list[SupplierBalance]:
    charged = _period_sums(conn, _CHARGED, period, rows)
    paid = _period_sums(conn, _PAID, period, rows)
    withheld = withheld_by_payee(conn, period, rows)
    transferred: dict[str, int] = {
        supplier: int(kopecks)
        for supplier, kopecks in conn.execute(
            "SELECT supplier_id, sum(amount_kopecks) FROM supplier_transfers WHERE period = %s GROUP BY 1",
            (period,),
        )
    }
    payees = {*charged, *paid, *withheld, *transferred, *(p for p, v in opening.items() if v)}
    return [
        SupplierBalance(
            supplier_id=payee,
            period=period,
            charged=charged.get(payee, 0),
            paid=paid.get(payee, 0),
            withheld=withheld.get(payee, 0),
            transferred=transferred.get(payee, 0),
            owed_opening=opening.get(payee, 0),
        )
        for payee in sorted(payees, key=_payee_order)
    ]
