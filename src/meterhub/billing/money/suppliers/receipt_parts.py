"""Payees of one receipt (получатели платежа ЕПД): which part of an account's debt is owed to which payee.

A building whose services have (in the period) at least one supplier with its own bank details gets a
receipt with several payees (Приказ Минстроя № 43/пр, Раздел 2 "получателям платежей"): each such
supplier receives the closing balance of its services; the receipt's own payee (``receipt_payees``) receives
the rest — services without a supplier, or whose supplier has no bank details of its own (the УК collects
for them), and the advance (аванс) the collector holds. So the parts sum to the receipt's "итого к оплате"
exactly. Each part's QR code asks for ``max(part, 0)``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from meterhub.billing.money.ledger import ADVANCE_SERVICE, account_balances
from meterhub.billing.money.payment_qr import Payee
from meterhub.billing.money.suppliers.store import service_suppliers
from meterhub.billing.rules.payment_allocation import service_receipt_key
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.suppliers import supplier_in_force

__all__ = ["PayeeShare", "payee_shares", "supplier_payees"]


@dataclass(frozen=True, slots=True)
class PayeeShare:
    """One payee's part of an account's receipt; ``supplier_id`` is ``None`` for the receipt's own payee."""

    supplier_id: str | None
    payee: Payee | None
    """The supplier's bank details (``None``: the receipt's own payee)."""
    services: tuple[str, ...]
    kopecks: int
    """Closing balance of its services [kopecks] (negative: an overpayment)."""


def supplier_payees(conn: psycopg.Connection) -> dict[str, Payee]:
    """Suppliers that have complete bank details, as QR payees."""
    rows = conn.execute(
        "SELECT supplier_id, name, settlement_account, bank_name, bic, correspondent_account, inn, kpp"
        " FROM suppliers WHERE settlement_account IS NOT NULL AND bank_name IS NOT NULL AND bic IS NOT NULL"
        " AND correspondent_account IS NOT NULL"
    )
    return {
        supplier: Payee(name[:160], account, bank, bic, corr, inn, kpp)
        for supplier, name, account, bank, bic, corr, inn, kpp in rows
    }


def payee_shares(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, account_nos: Sequence[str]
) -> dict[str, list[PayeeShare]]:
    """The payees' parts of each account's receipt of ``period`` (the receipt's own payee first, then the
    suppliers in receipt order of their first service). Accounts of a building without any supplier with
    bank details map to no entry: their receipt has one payee."""
    payees = supplier_payees(conn)
    day = period.first_day
    assignments = [r for r in service_suppliers(conn) if r.building_id == building_id]
    if not any(r.supplier_id in payees for r in assignments):
        return {}
    result: dict[str, list[PayeeShare]] = {}
    for account_no, balances in account_balances(conn, period, account_nos=account_nos).items():
        kopecks: dict[str | None, int] = defaultdict(int)
        services: dict[str | None, list[str]] = defaultdict(list)
        kopecks[None] = 0
        for balance in sorted(balances, key=lambda b: service_receipt_key(b.service)):
            supplier = None
            if balance.service != ADVANCE_SERVICE:
                candidate = supplier_in_force(assignments, building_id, balance.service, day)
                supplier = candidate if candidate in payees else None
                services[supplier].append(balance.service)
            kopecks[supplier] += balance.closing
        if set(kopecks) == {None}:
            continue
        result[account_no] = [
            PayeeShare(s, payees.get(s) if s else None, tuple(services[s]), amount)
            for s, amount in kopecks.items()
        ]
    return result
