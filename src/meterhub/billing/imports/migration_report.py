"""Reconciliation of a migration (сверка): Σ imported per building = the legacy system's own totals.

For every row of ``legacy_totals`` (building × service, ``*`` = all services) and every total it gives,
one :class:`ReconciliationLine` compares it with the same sum over what was imported:

========== ===================================================================================
measure    imported sum
========== ===================================================================================
debt       Σ principal opening debts (``opening_balances.csv``, kind principal) [kopecks]
penalties  Σ unpaid legacy penalties (kind penalty) [kopecks]
advance    Σ overpayments (kind advance, held as advances) [kopecks]
balance    Σ opening balance of the first meterhub period as the ledger computes it — what the
           first receipts (ЕПД) show as debt: debt + penalties − advance [kopecks]
paid       Σ legacy payments (``legacy_payments.csv``) [kopecks]
volume     Σ legacy meter volumes of the building's meters (``meter_history.csv``) [unit]
house_volume Σ legacy house-meter volumes (``house_history.csv``) [unit]
========== ===================================================================================

A migration is reconciled when every line's difference is 0 (see docs/migration.md).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg

from meterhub.billing.money.ledger import account_balances

__all__ = ["MEASURES", "ReconciliationLine", "format_report", "reconcile", "write_report_csv"]

MEASURES = ("debt", "penalties", "advance", "balance", "paid", "volume", "house_volume")
_MONEY = {"debt", "penalties", "advance", "balance", "paid"}

_IMPORTED = {
    "debt": """SELECT coalesce(sum(o.amount_kopecks), 0) FROM opening_debts o
               JOIN accounts a USING (account_no) WHERE a.building_id = %(b)s AND o.kind = 'principal'
               AND %(s)s IN ('*', o.service)""",
    "penalties": """SELECT coalesce(sum(o.amount_kopecks), 0) FROM opening_debts o JOIN accounts a
                    USING (account_no) WHERE a.building_id = %(b)s AND o.kind = 'penalty'
                    AND %(s)s IN ('*', o.service)""",
    "advance": """SELECT coalesce(sum(p.amount_kopecks), 0) FROM payments p JOIN accounts a USING (account_no)
                  WHERE a.building_id = %(b)s AND p.source = 'opening_balance'""",
    "paid": """SELECT coalesce(sum(p.amount_kopecks), 0) FROM legacy_payments p JOIN accounts a
               USING (account_no) WHERE a.building_id = %(b)s""",
    "volume": """SELECT coalesce(sum(volume), 0) FROM legacy_meter_volumes
                 WHERE building_id = %(b)s AND %(s)s IN ('*', service)""",
    "house_volume": """SELECT coalesce(sum(house_volume), 0) FROM legacy_house_volumes
                       WHERE building_id = %(b)s AND %(s)s IN ('*', service)""",
}


@dataclass(frozen=True, slots=True)
class ReconciliationLine:
    building: str
    service: str
    measure: str
    legacy: Decimal
    """The legacy system's total [₽ for money, the unit for volumes]."""
    imported: Decimal

    @property
    def difference(self) -> Decimal:
        return self.imported - self.legacy

    @property
    def ok(self) -> bool:
        return self.difference == 0


def _balance(conn: psycopg.Connection, building: str, service: str) -> int:
    row = conn.execute(
        "SELECT first_period FROM legacy_cutovers WHERE building_id = %s", (building,)
    ).fetchone()
    if row is None:
        return 0
    balances = account_balances(conn, row[0], building_id=building)
    return sum(b.opening for rows in balances.values() for b in rows if service in ("*", b.service))


def reconcile(conn: psycopg.Connection, building_id: str | None = None) -> list[ReconciliationLine]:
    """One line per total given in ``legacy_totals`` (of one building, or all), by building and service."""
    totals = conn.execute(
        "SELECT building_id, service, debt_kopecks, penalties_kopecks, advance_kopecks, balance_kopecks,"
        " paid_kopecks, volume, house_volume FROM legacy_totals"
        " WHERE %(b)s::text IS NULL OR building_id = %(b)s ORDER BY building_id, service <> '*', service",
        {"b": building_id},
    ).fetchall()
    lines = []
    for building, service, *values in totals:
        for measure, legacy in zip(MEASURES, values, strict=True):
            if legacy is None:
                continue
            if measure == "balance":
                imported: Decimal | int = _balance(conn, building, service)
            else:
                imported = conn.execute(_IMPORTED[measure], {"b": building, "s": service}).fetchone()[0]  # type: ignore[index]
            if measure in _MONEY:
                lines.append(
                    ReconciliationLine(
                        building, service, measure, Decimal(legacy).scaleb(-2), Decimal(imported).scaleb(-2)
                    )
                )
            else:
                lines.append(
                    ReconciliationLine(building, service, measure, Decimal(legacy), Decimal(imported))
                )
    return lines


def format_report(lines: list[ReconciliationLine]) -> str:
    """The report as aligned text, one line per total, and a summary line."""
    if not lines:
        return "no legacy totals to reconcile; import legacy_totals.csv (docs/migration.md)"
    header = ("building", "service", "measure", "legacy", "imported", "difference", "")
    rows = [header] + [
        (
            line.building,
            line.service,
            line.measure,
            str(line.legacy),
            str(line.imported),
            str(line.difference),
            "ok" if line.ok else "DIFFERS",
        )
        for line in lines
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    text = [
        "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in rows
    ]
    differing = sum(not line.ok for line in lines)
    text.append(
        f"{len(lines)} total(s) checked: "
        + ("all equal" if not differing else f"{differing} differ; see docs/migration.md, 'Reconciliation'")
    )
    return "\n".join(t.rstrip() for t in text)


def write_report_csv(lines: list[ReconciliationLine], path: Path | str) -> None:
    """The report as CSV (UTF-8 with BOM, ``;`` separated, opens in a spreadsheet as is)."""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(("building", "service", "measure", "legacy", "imported", "difference", "ok"))
        for line in lines:
            writer.writerow(
                (
                    line.building,
                    line.service,
                    line.measure,
                    line.legacy,
                    line.imported,
                    line.difference,
                    "yes" if line.ok else "no",
                )
            )
