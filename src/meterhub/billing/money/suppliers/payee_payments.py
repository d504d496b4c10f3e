"""Posting a payment made to one payee of a receipt with several payees (its own QR code): the money pays
only the debts of that payee's services, by the usual rules among them (billing-rules.md §7.2: the named
period first, then oldest first, penalties when designated or after principal); what is left is an advance.

The restriction uses :func:`~meterhub.billing.money.posting.post_payment`'s ``debt_limits``: every debt
(period × kind) of the account limited to the services whose supplier in that period is the payee.
"""

from __future__ import annotations

from datetime import date

import psycopg

from meterhub.billing.money.ledger import outstanding_by_debt
from meterhub.billing.money.posting import post_payment
from meterhub.billing.money.suppliers.receipt_parts import supplier_payees
from meterhub.billing.money.suppliers.store import service_suppliers, supplier_of
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["payee_debt_limits", "post_payment_to_payee"]

_NO_LIMIT = 10**15
"""A limit no debt reaches [kopecks]: the payee's services are limited by what they owe, nothing else."""


def payee_debt_limits(
    conn: psycopg.Connection, account_no: str, supplier_id: str | None
) -> dict[tuple[str, str], dict[str, int]]:
    """``(debt period, kind) → {service: limit}`` for the services of the payee (``None``: the receipt's own
    payee — services without a supplier that has its own bank details)."""
    (building_id,) = conn.execute(
        "SELECT building_id FROM accounts WHERE account_no = %s", (account_no,)
    ).fetchone() or (None,)
    if building_id is None:
        raise LookupError(f"account {account_no!r} does not exist; correct the payment's account")
    rows = service_suppliers(conn)
    banked = set(supplier_payees(conn))
    limits: dict[tuple[str, str], dict[str, int]] = {}
    for (period, _kind), services in outstanding_by_debt(conn, [account_no])[account_no].items():
        for service in services:
            owner = supplier_of(rows, building_id, service, period)
            owner = owner if owner in banked else None
            if owner == supplier_id:
                for kind in ("principal", "penalty"):  # penalties accrued to the payment day count too
                    limits.setdefault((period, kind), {})[service] = _NO_LIMIT
    return limits


def post_payment_to_payee(
    conn: psycopg.Connection,
    *,
    supplier_id: str | None,
    account_no: str,
    amount_kopecks: int,
    paid_on: date,
    payment_id: str,
    source: str,
    period: BillingPeriod | None = None,
    purpose: str = "",
) -> int | None:
    """Post a payment made by one payee's QR code (``supplier_id``; ``None`` = the receipt's own payee)."""
    limits = payee_debt_limits(conn, account_no, supplier_id)
    return post_payment(
        conn, account_no=account_no, amount_kopecks=amount_kopecks, paid_on=paid_on, payment_id=payment_id,
        source=source, period=period, purpose=purpose, debt_limits=limits,
        rule_prefix=f"payee {supplier_id}:" if supplier_id else "",
    )  # fmt: skip
