"""Payment registries (реестр платежей) from banks and payment agents: parsing only, no database.

A registry is a CSV file with a header row; see ``docs/billing-money.md`` for the format and an example.
Tolerated variations: separator ``;`` or ``,`` (chosen from the header line); UTF-8 with or without a
BOM, or windows-1251 (when the bytes are not UTF-8); decimal comma or point in amounts, spaces as
thousands separators; column names in English or Russian, any letter case.

:func:`parse_payment_registry` returns every good row and, for every bad one, an error naming the file,
the line, the column and the fix — the caller posts the rows and sends the errors to the suspense list.
Rows are not checked against accounts here (that needs the database).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "COLUMN_ALIASES",
    "PaymentRegistry",
    "RegistryError",
    "RegistryRow",
    "parse_day",
    "parse_payment_registry",
]

COLUMN_ALIASES: Mapping[str, tuple[str, ...]] = {
    "account": ("account", "лицевой счёт", "лицевой счет", "лс", "persacc"),
    "amount": ("amount", "сумма", "sum"),
    "paid_on": ("paid_on", "date", "дата", "дата платежа", "дата оплаты"),
    "period": ("period", "период", "период оплаты", "paymperiod"),
    "payment_id": ("payment_id", "id", "идентификатор платежа", "номер платежа"),
    "purpose": ("purpose", "назначение", "назначение платежа"),
}
"""Canonical column → accepted header names (compared case-insensitively, ё = е, spaces trimmed)."""
REQUIRED_COLUMNS = ("account", "amount", "paid_on", "payment_id")

_AMOUNT_RE = re.compile(r"^\d+([.,]\d{1,2})?$")
_THOUSANDS = str.maketrans("", "", " \u00a0\u202f")
_MAX_TEXT = 64


@dataclass(frozen=True, slots=True)
class RegistryRow:
    """One payment of a registry."""

    line: int
    """Line of the file the row ends on (the header is line 1)."""
    account: str
    """Лицевой счёт as written in the registry."""
    amount: Decimal
    """[₽], positive, at most two decimals."""
    paid_on: date
    period: BillingPeriod | None
    """The period the payer named, or ``None`` (allocation then goes oldest first)."""
    payment_id: str
    purpose: str = ""


@dataclass(frozen=True, slots=True)
class RegistryError:
    """Why a row (or the file, ``line`` 1) could not be read."""

    file: str
    line: int
    column: str | None
    value: str
    message: str
    cells: tuple[tuple[str, str], ...] = ()
    """The row's raw values by canonical column (account, amount, payment_id …), for the suspense list."""

    def cell(self, column: str) -> str | None:
        """The raw value of ``column`` in the bad row, if the row had one."""
        return next((value for name, value in self.cells if name == column), None)

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}" + (f" (got {self.value!r})" if self.value else "")


@dataclass(frozen=True, slots=True)
class PaymentRegistry:
    """A parsed registry: good rows, errors, and what identifies the file (for idempotent imports)."""

    file: str
    sha256: str
    encoding: str
    delimiter: str
    rows: tuple[RegistryRow, ...]
    errors: tuple[RegistryError, ...]

    @property
    def total(self) -> Decimal:
        """Σ of the good rows' amounts [₽]."""
        return sum((row.amount for row in self.rows), Decimal(0))


def _normalise_header(name: str) -> str:
    return " ".join(name.strip().lower().replace("ё", "е").split())


_ALIAS_TO_COLUMN = {
    _normalise_header(alias): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases
}


def _decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        return data.decode(encoding), encoding
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251"), "cp1251"


def _amount(text: str) -> Decimal:
    compact = text.translate(_THOUSANDS)
    if not _AMOUNT_RE.match(compact):
        raise ValueError("amount must be a positive number of rubles with at most 2 decimals, e.g. 1234,56")
    value = Decimal(compact.replace(",", ".")).quantize(Decimal("0.01"))
    if value <= 0:
        raise ValueError("amount must be positive")
    return value


def _date(text: str) -> date:
    for pattern, order in (
        (r"^(\d{4})-(\d{2})-(\d{2})$", (1, 2, 3)),
        (r"^(\d{2})\.(\d{2})\.(\d{4})$", (3, 2, 1)),
    ):
        match = re.match(pattern, text)
        if match:
            year, month, day = (int(match.group(i)) for i in order)
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"not a calendar date ({exc})") from None
    raise ValueError("date must be YYYY-MM-DD or DD.MM.YYYY")


def parse_day(text: str) -> date:
    """A date as registries write it: ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (``ValueError`` otherwise)."""
    return _date(text)


def _period(text: str) -> BillingPeriod | None:
    if not text:
        return None
    for pattern, year_group, month_group in (
        (r"^(\d{4})-(\d{2})$", 1, 2),
        (r"^(\d{2})\.(\d{4})$", 2, 1),
        (r"^(\d{2})(\d{4})$", 2, 1),
    ):
        match = re.match(pattern, text)
        if match:
            return BillingPeriod(int(match.group(year_group)), int(match.group(month_group)))
    raise ValueError("period must be YYYY-MM, MM.YYYY or MMYYYY (or empty)")


def _text(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    if len(text) > _MAX_TEXT:
        raise ValueError(f"longer than {_MAX_TEXT} characters")
    return text


_PARSERS: Mapping[str, Callable[[str], Any]] = {
    "account": _text,
    "amount": _amount,
    "paid_on": _date,
    "period": _period,
    "payment_id": _text,
    "purpose": str,
}


def parse_payment_registry(
    data: bytes, file: str = "<registry>", *, encoding: str | None = None
) -> PaymentRegistry:
    """Parse a payment registry CSV (see the module docstring and ``docs/billing-money.md``).

    ``file`` names the source in errors; ``encoding`` forces a codec (default: UTF-8 with or without a
    BOM, else windows-1251). A ``payment_id`` repeated within the file is an error on the later row.
    """
    digest = hashlib.sha256(data).hexdigest()
    text, used_encoding = _decode(data, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    errors: list[RegistryError] = []
    rows: list[RegistryRow] = []

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        _read_rows(reader, file, delimiter, rows, errors)
    except csv.Error as exc:
        errors.append(
            RegistryError(file, reader.line_num, None, "", f"unreadable CSV ({exc}); fix the quoting")
        )
    return PaymentRegistry(file, digest, used_encoding, delimiter, tuple(rows), tuple(errors))


def _read_rows(
    reader: Any, file: str, delimiter: str, rows: list[RegistryRow], errors: list[RegistryError]
) -> None:
    """Read the header and the records of ``reader`` into ``rows`` and ``errors``."""
    header = next(reader, None)
    if header is None:
        errors.append(RegistryError(file, 1, None, "", "the file is empty; expected a header row"))
        return
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _ALIAS_TO_COLUMN.get(_normalise_header(name))
        if column is None:
            continue  # extra columns are ignored
        if column in columns:
            errors.append(RegistryError(file, 1, column, name, "column appears twice in the header"))
        columns[column] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        known = "; ".join(f"{c}: {', '.join(COLUMN_ALIASES[c])}" for c in missing)
        errors.append(
            RegistryError(
                file,
                1,
                ", ".join(missing),
                delimiter.join(header),
                f"missing column(s) — accepted names: {known}",
            )
        )
    if errors:
        return

    first_seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(header):
            errors.append(
                RegistryError(
                    file, line, None, delimiter.join(record),
                    f"{len(record)} fields, the header has {len(header)}; check the separator and quoting "
                    f"(a decimal comma needs quotes when the separator is ',')",
                )
            )  # fmt: skip
            continue
        values: dict[str, Any] = {}
        row_errors: list[RegistryError] = []
        for column, parse in _PARSERS.items():
            if column not in columns:
                continue
            raw = record[columns[column]].strip()
            try:
                values[column] = parse(raw)
            except ValueError as exc:
                row_errors.append(RegistryError(file, line, column, raw, str(exc)))
        payment_id = values.get("payment_id")
        if payment_id is not None and payment_id in first_seen:
            row_errors.append(
                RegistryError(
                    file, line, "payment_id", payment_id, f"duplicate of line {first_seen[payment_id]}"
                )
            )
        if row_errors:
            cells = tuple((column, record[index].strip()) for column, index in columns.items())
            errors.extend(dataclasses.replace(error, cells=cells) for error in row_errors)
            continue
        first_seen[payment_id] = line
        rows.append(
            RegistryRow(
                line=line,
                account=values["account"],
                amount=values["amount"],
                paid_on=values["paid_on"],
                period=values.get("period"),
                payment_id=payment_id,
                purpose=values.get("purpose", ""),
            )
        )
