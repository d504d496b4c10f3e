"""A supplier's own charges (начисления поставщика, docs/suppliers.md): rows imported into
``supplier_charges`` become charge lines of their period in the close's money step (before recalculations,
benefits and penalties), so the ledger, payments and the receipt — where the supplier is a separate payee —
see them. A draft re-run rewrites the charge lines first, so they are written again each time; a closed
period is never re-run, so rows imported for it later change nothing (book them in an open period).
A row whose key the close has already computed (the same account, service, period) is not written and is
logged: a service is either computed by the close or billed by its supplier, not both."""

from __future__ import annotations

import logging

import psycopg

from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["write_supplier_charges"]

log = logging.getLogger(__name__)

_INSERT = """
INSERT INTO charge_lines (building_id, period, account_no, service, kind, zone, part_start, part_end, volume,
                          unit, tariff, coefficient, method, formula, amount_exact, amount, excess, note)
SELECT a.building_id, s.period, s.account_no, s.service, 'individual', 'single', %(start)s, %(end)s, s.volume,
       s.unit, s.tariff, 1, 'supplier', 'начислено поставщиком: ' || sp.name, s.amount, s.amount, 0,
       s.description
  FROM supplier_charges s JOIN accounts a USING (account_no) JOIN suppliers sp USING (supplier_id)
 WHERE a.building_id = %(b)s AND s.period = %(p)s
ON CONFLICT (building_id, period, account_no, service, kind, zone, part_start) DO NOTHING
RETURNING account_no, service
"""


def write_supplier_charges(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> int:
    """Write the period's imported supplier charges of ``building_id`` as charge lines; returns how many."""
    params = {"b": building_id, "p": str(period), "start": period.first_day, "end": period.next().first_day}
    (expected,) = conn.execute(
        "SELECT count(*) FROM supplier_charges s JOIN accounts a USING (account_no)"
        " WHERE a.building_id = %(b)s AND s.period = %(p)s",
        params,
    ).fetchone()
    if not expected:
        return 0  # the usual case; the INSERT would also fire charge_lines' statement triggers for nothing
    written = len(conn.execute(_INSERT, params).fetchall())
    if written != expected:
        log.warning(
            "building %s, period %s: %d supplier charge(s) not written — the close already computed those "
            "services for those accounts; bill a service either by the close or by its supplier",
            building_id, period, expected - written,
        )  # fmt: skip
    return written
