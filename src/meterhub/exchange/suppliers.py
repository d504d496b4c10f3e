"""Exports for a resource supplier (РСО): the charges, payments and meter readings of its services.

For supplier S and period P, the services S supplies (``service_suppliers`` in force on P's first day, per
building) give three tables; XLSX writes them as three sheets, CSV as three files
``<name>-charges.csv``, ``<name>-payments.csv``, ``<name>-readings.csv`` (UTF-8, ``;``). Layout:

* **charges** — ``period; building; address; premise; account_no; service; kind; zone; volume; unit;
  tariff; method; amount`` — one row per charge line of P (``kind`` individual / common_property), then one
  row per recalculation booked in P (``kind`` = ``recalculation``, ``method`` = the reason, the corrected
  period in ``zone``), amounts in rubles;
* **payments** — ``period; account_no; payment_id; source; paid_on; debt_period; service; kind; amount`` —
  the parts of consumers' payments booked in P that went to S's services (principal or penalty) — the
  same money the supplier balance counts as ``paid`` (docs/suppliers.md);
* **readings** — ``period; building; premise; meter_id; service; register; previous; current`` — the
  individual and house meters of S's services with their readings at the period's bounds (as on the ЕПД).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from meterhub.billing.close.repository import get_building
from meterhub.billing.money.suppliers.store import service_suppliers, supplier_of
from meterhub.billing.receipts.loader import _readings  # the ЕПД's own readings query, shared
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["CHARGE_COLUMNS", "PAYMENT_COLUMNS", "READING_COLUMNS", "SupplierExport", "supplier_export"]

CHARGE_COLUMNS = (
    "period", "building", "address", "premise", "account_no", "service", "kind", "zone", "volume", "unit",
    "tariff", "method", "amount",
)  # fmt: skip
PAYMENT_COLUMNS = (
    "period", "account_no", "payment_id", "source", "paid_on", "debt_period", "service", "kind", "amount",
)  # fmt: skip
READING_COLUMNS = ("period", "building", "premise", "meter_id", "service", "register", "previous", "current")


@dataclass
class SupplierExport:
    supplier_id: str
    period: str
    charges: list[list[Any]] = field(default_factory=list)
    payments: list[list[Any]] = field(default_factory=list)
    readings: list[list[Any]] = field(default_factory=list)

    def write(self, path: Path) -> list[Path]:
        """Write XLSX (three sheets) or three CSV files next to ``path``; returns the files written."""
        tables = (("charges", CHARGE_COLUMNS, self.charges), ("payments", PAYMENT_COLUMNS, self.payments),
                  ("readings", READING_COLUMNS, self.readings))  # fmt: skip
        if path.suffix.lower() == ".xlsx":
            from openpyxl import Workbook

            book = Workbook()
            book.remove(book.active)
            for name, columns, rows in tables:
                sheet = book.create_sheet(name)
                sheet.append(list(columns))
                for row in rows:
                    sheet.append(row)
            book.save(path)
            return [path]
        written = []
        for name, columns, rows in tables:
            target = path.with_name(f"{path.stem}-{name}.csv")
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";", lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([_text(v) for v in row] for row in rows)
            target.write_text(out.getvalue(), encoding="utf-8")
            written.append(target)
        return written


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize() if value == value.to_integral() else value, "f")
    return str(value)


_CHARGES = """
SELECT c.building_id, b.address, a.premise_no, c.account_no, c.service, c.kind, c.zone, c.volume, c.unit,
       c.tariff, c.method, c.amount
  FROM charge_lines c JOIN buildings b USING (building_id) JOIN accounts a USING (account_no)
 WHERE c.period = %s AND c.building_id = ANY(%s)
UNION ALL
SELECT r.building_id, b.address, a.premise_no, r.account_no, r.service, 'recalculation', r.corrects_period,
       NULL, NULL, NULL, r.reason, r.amount
  FROM recalculation_lines r JOIN buildings b USING (building_id) JOIN accounts a USING (account_no)
 WHERE r.period = %s AND r.building_id = ANY(%s)
UNION ALL
SELECT s.building_id, b.address, a.premise_no, s.account_no, s.service, 'recalculation', %s,
       NULL, NULL, NULL, s.reason, s.amount_kopecks::numeric / 100
  FROM service_recalculation_lines s JOIN buildings b USING (building_id) JOIN accounts a USING (account_no)
 WHERE s.period = %s AND s.building_id = ANY(%s)
 ORDER BY 1, 3, 4, 5, 6, 7
"""


def supplier_export(
    conn: psycopg.Connection, supplier_id: str, period: BillingPeriod | str
) -> SupplierExport:
    """The charges, payments and readings of ``supplier_id``'s services for ``period``."""
    p = period if isinstance(period, BillingPeriod) else BillingPeriod.parse(period)
    text = str(p)
    rows = service_suppliers(conn)
    result = SupplierExport(supplier_id, text)

    def mine(building: str, service: str, map_period: str = text) -> bool:
        return supplier_of(rows, building, service, map_period) == supplier_id

    buildings = sorted({r.building_id for r in rows if r.supplier_id == supplier_id})
    if not buildings:
        return result
    for row in conn.execute(_CHARGES, (text, buildings, text, buildings, text, text, buildings)):
        building, service, amount = row[0], row[4], row[-1]
        if mine(building, service):
            result.charges.append([text, *row[:-1], Decimal(amount).quantize(Decimal("0.01"))])
    for account, payment_id, source, paid_on, debt_period, service, kind, kopecks, building in conn.execute(
        "SELECT x.account_no, p.payment_id, p.source, x.paid_on, x.debt_period, x.service, x.kind,"
        " x.amount_kopecks, a.building_id FROM payment_allocations x JOIN payments p USING (payment_pk)"
        " JOIN accounts a ON a.account_no = x.account_no"
        " WHERE x.booked_period = %s AND x.kind <> 'advance' AND a.building_id = ANY(%s)"
        " ORDER BY x.account_no, x.paid_on, p.payment_id, x.debt_period, x.service",
        (text, buildings),
    ):
        if mine(building, service, debt_period):
            result.payments.append([
                text, account, payment_id, source, paid_on.isoformat(), debt_period, service, kind,
                Decimal(kopecks).scaleb(-2),
            ])  # fmt: skip
    for building in buildings:
        info = get_building(conn, building)
        if info is None:
            continue
        house, by_premise = _readings(conn, building, p, info.time_zone, None)
        readings: Sequence = [(None, r) for r in house]
        readings += [(pr, r) for pr, rs in by_premise.items() for r in rs]
        for premise, r in readings:
            if mine(building, r.service):
                result.readings.append([
                    text, building, premise or "", r.meter_id, r.service, r.register, r.previous, r.current
                ])  # fmt: skip
    return result
