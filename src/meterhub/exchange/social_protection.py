"""Export to social protection (соцзащита) for cash compensation (ЕДК) and its reconciliation report.

For the compensation regime (docs/benefits.md) meterhub gives no discount: the beneficiary pays in full and
social protection pays the benefit back in cash. Per period it needs, per beneficiary and service, the
charge, the benefit computed on it and what the account paid. Layout (one row per beneficiary × service;
CSV UTF-8 with ``;`` or XLSX, same columns):

``period; account_no; person_name; snils; category; category_name; legal_basis; service; charged;
compensation; paid; debt``

amounts in rubles (``270.00``); ``paid`` — what the account's payments booked in the period paid on that
service; ``debt`` — the account's closing balance of the service (the ledger), which social protection uses
to suspend ЕДК for a long debt.

The reconciliation report sums the export per category: beneficiaries, accounts, charged, compensation,
and the compensation of beneficiaries whose account has a debt — so the totals sent can be checked against
the benefit lines of the close to the kopeck.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg

from meterhub.billing.money.ledger import account_balances
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["COLUMNS", "CompensationRow", "compensation_rows", "reconciliation_report", "write_export"]

COLUMNS = (
    "period", "account_no", "person_name", "snils", "category", "category_name", "legal_basis", "service",
    "charged", "compensation", "paid", "debt",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CompensationRow:
    period: str
    account_no: str
    person_name: str
    snils: str
    category: str
    category_name: str
    legal_basis: str
    service: str
    charged: int
    compensation: int
    paid: int
    debt: int
    """kopecks"""


def compensation_rows(conn: psycopg.Connection, period: BillingPeriod | str) -> list[CompensationRow]:
    """The compensation-regime benefit lines of ``period`` with the account's payments and debt."""
    text = str(period)
    lines = conn.execute(
        "SELECT l.account_no, a.person_name, a.snils, l.category, c.name, c.legal_basis, l.service,"
        " l.charge_kopecks, l.amount_kopecks FROM benefit_lines l"
        " JOIN benefit_assignments a USING (assignment_id)"
        " JOIN LATERAL (SELECT name, legal_basis FROM benefit_categories bc"
        "   WHERE bc.category = l.category AND bc.valid_from <= to_date(l.period || '-01', 'YYYY-MM-DD')"
        "   ORDER BY bc.valid_from DESC LIMIT 1) c ON true"
        " WHERE l.period = %s AND l.regime = 'compensation' ORDER BY l.account_no, a.person_name, l.service",
        (text,),
    ).fetchall()
    accounts = sorted({row[0] for row in lines})
    balances = {
        (b.account_no, b.service): b
        for bs in account_balances(conn, text, account_nos=accounts).values()
        for b in bs
    }
    result = []
    for account, name, snils, cat, cat_name, basis, service, charged, amount in lines:
        balance = balances.get((account, service))
        paid = balance.paid if balance else 0
        debt = balance.closing if balance else 0
        result.append(CompensationRow(
            text, account, name, snils, cat, cat_name, basis, service, charged, amount, paid, debt
        ))  # fmt: skip
    return result


def _rubles(kopecks: int) -> str:
    return str(Decimal(kopecks).scaleb(-2).quantize(Decimal("0.01")))


def _cells(row: CompensationRow) -> list[str]:
    return [
        row.period, row.account_no, row.person_name, row.snils, row.category, row.category_name,
        row.legal_basis, row.service, _rubles(row.charged), _rubles(row.compensation), _rubles(row.paid),
        _rubles(row.debt),
    ]  # fmt: skip


def write_export(rows: list[CompensationRow], path: Path) -> None:
    """Write the export as CSV (``;``, UTF-8) or XLSX by the file's suffix."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "ЕДК"
        sheet.append(list(COLUMNS))
        for row in rows:
            cells = _cells(row)
            sheet.append([*cells[:8], *(Decimal(c) for c in cells[8:])])
        book.save(path)
        return
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_cells(row) for row in rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def reconciliation_report(conn: psycopg.Connection, rows: list[CompensationRow], period: str) -> list[str]:
    """Lines of the reconciliation report: per category the beneficiaries, accounts, charged and
    compensation (with debtors' part), and a last line comparing the export with the benefit lines."""
    by_category: dict[str, list[CompensationRow]] = defaultdict(list)
    for row in rows:
        by_category[row.category].append(row)
    lines = ["category;beneficiaries;accounts;charged;compensation;compensation_with_debt"]
    for category, group in sorted(by_category.items()):
        people = {(r.account_no, r.person_name) for r in group}
        with_debt = sum(r.compensation for r in group if r.debt > 0)
        lines.append(
            f"{category};{len(people)};{len({r.account_no for r in group})};"
            f"{_rubles(sum(r.charged for r in group))};{_rubles(sum(r.compensation for r in group))};"
            f"{_rubles(with_debt)}"
        )
    (stored,) = conn.execute(
        "SELECT coalesce(sum(amount_kopecks), 0) FROM benefit_lines"
        " WHERE period = %s AND regime = 'compensation'",
        (period,),
    ).fetchone()
    exported = sum(r.compensation for r in rows)
    status = "OK" if exported == stored else "DIFFERS"
    lines.append(f"total;exported {_rubles(exported)};benefit lines {_rubles(int(stored))};{status}")
    return lines
