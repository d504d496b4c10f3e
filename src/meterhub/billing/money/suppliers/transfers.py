"""Transfers to suppliers (перечисления поставщикам): the register of what is due, imported statements.

* :func:`parse_transfer_statement` (pure) reads a bank statement of transfers — CSV, UTF-8 or
  windows-1251, ``;`` or ``,`` — with the columns ``supplier, period, transferred_on, document_no, amount,
  purpose`` (``amount`` in rubles with a point or a comma, ``period`` YYYY-MM: the period whose collected
  money the transfer settles). Every bad row is reported with its line and the fix; nothing is guessed.
* :func:`import_transfer_statement` stores a statement once (sha256) in one transaction, refusing it as a
  whole when any row is bad or names an unknown supplier.
* :func:`transfer_register` is the register of what is due per supplier for a period (paid by consumers
  less the commissions withheld, what was transferred, what is still owed), as CSV text.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import psycopg

from meterhub.billing.money.suppliers.store import supplier_balances
from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "TransferRow",
    "TransferStatementError",
    "import_transfer_statement",
    "parse_transfer_statement",
    "transfer_register",
]

_COLUMNS = ("supplier", "period", "transferred_on", "document_no", "amount")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_AMOUNT = re.compile(r"^-?\d+([.,]\d{1,2})?$")


class TransferStatementError(ValueError):
    """The statement has bad rows (listed, one per line); nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class TransferRow:
    line: int
    supplier_id: str
    period: str
    transferred_on: date
    document_no: str
    amount_kopecks: int
    purpose: str = ""


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("windows-1251")


def parse_transfer_statement(data: bytes) -> list[TransferRow]:
    """The rows of a statement of transfers; raises :class:`TransferStatementError` listing every bad row."""
    text = _decode(data)
    if not text.strip():
        raise TransferStatementError(["the statement is empty"])
    dialect = ";" if text.splitlines()[0].count(";") >= text.splitlines()[0].count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        have = ", ".join(header)
        raise TransferStatementError([f"header: missing columns {', '.join(missing)} (have {have})"])
    rows: list[TransferRow] = []
    problems: list[str] = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        where = f"line {line}"
        before = len(problems)
        if not row["supplier"]:
            problems.append(f"{where}: supplier is empty")
        if not _PERIOD.match(row["period"]):
            problems.append(f"{where}: period {row['period']!r} is not YYYY-MM")
        try:
            day = date.fromisoformat(row["transferred_on"])
        except ValueError:
            problems.append(f"{where}: transferred_on {row['transferred_on']!r} is not a date YYYY-MM-DD")
            day = None
        if not row["document_no"]:
            problems.append(f"{where}: document_no is empty (the payment order number)")
        amount = row["amount"].replace(" ", "").replace("\u00a0", "")
        kopecks = None
        if _AMOUNT.match(amount):
            try:
                kopecks = int(Decimal(amount.replace(",", ".")) * 100)
            except InvalidOperation:
                kopecks = None
        if kopecks is None or kopecks == 0:
            problems.append(f"{where}: amount {row['amount']!r} is not a non-zero ruble sum, e.g. 1234.56")
        if len(problems) > before:
            continue
        assert day is not None and kopecks is not None
        purpose = row.get("purpose", "")
        supplier, document = row["supplier"], row["document_no"]
        rows.append(TransferRow(line, supplier, row["period"], day, document, kopecks, purpose))
    if problems:
        raise TransferStatementError(problems)
    return rows


def import_transfer_statement(conn: psycopg.Connection, data: bytes, file_name: str) -> int:
    """Import a statement of transfers once; returns the number of transfers stored."""
    digest = hashlib.sha256(data).hexdigest()
    if conn.execute("SELECT 1 FROM transfer_files WHERE sha256 = %s", (digest,)).fetchone():
        raise TransferStatementError([f"{file_name}: this statement was imported before"])
    rows = parse_transfer_statement(data)
    known = {s for (s,) in conn.execute("SELECT supplier_id FROM suppliers")}
    unknown = [
        f"line {r.line}: unknown supplier {r.supplier_id!r}; import suppliers first"
        for r in rows
        if r.supplier_id not in known
    ]
    if unknown:
        raise TransferStatementError(unknown)
    with conn.transaction():
        (file_id,) = conn.execute(
            "INSERT INTO transfer_files (sha256, file_name, rows_posted) VALUES (%s, %s, %s)"
            " RETURNING file_id",
            (digest, file_name, len(rows)),
        ).fetchone()
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO supplier_transfers (file_id, supplier_id, period, transferred_on, document_no,"
                " amount_kopecks, purpose) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        file_id,
                        r.supplier_id,
                        r.period,
                        r.transferred_on,
                        r.document_no,
                        r.amount_kopecks,
                        r.purpose,
                    )
                    for r in rows
                ],
            )
    return len(rows)


def _rubles(kopecks: int) -> str:
    return str(Decimal(kopecks).scaleb(-2).quantize(Decimal("0.01")))


_REGISTER_COLUMNS = (
    "supplier",
    "name",
    "owed_opening",
    "charged",
    "paid",
    "withheld",
    "due",
    "transferred",
    "owed",
)


def transfer_register(conn: psycopg.Connection, period: BillingPeriod | str) -> str:
    """CSV register (``;``, UTF-8) of the balance per supplier for ``period``: columns ``supplier, name,
    owed_opening, charged, paid, withheld, due, transferred, owed`` in rubles."""
    names = dict(conn.execute("SELECT supplier_id, name FROM suppliers").fetchall())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(_REGISTER_COLUMNS)
    for b in supplier_balances(conn, period):
        writer.writerow(
            [
                b.supplier_id,
                names.get(b.supplier_id, ""),
                _rubles(b.owed_opening),
                _rubles(b.charged),
                _rubles(b.paid),
                _rubles(b.withheld),
                _rubles(b.due),
                _rubles(b.transferred),
                _rubles(b.owed),
            ]
        )
    return out.getvalue()
