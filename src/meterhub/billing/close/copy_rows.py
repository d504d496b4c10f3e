"""The text of the close's two large COPYs (charge lines, volume rows), built in one pass.

psycopg's ``write_row`` formats and escapes each value of each row in turn (≈ 60,000 values a
350-flat building); here each row is one f-string and the whole COPY one ``write``. The text is what
psycopg's text dumpers produce for the same values, in PostgreSQL's text ``COPY`` format:

* fields separated by a tab, rows ended by a newline, NULL as ``\\N``;
* numeric: ``str(Decimal)`` — exponent forms (``1E+2``, ``0E-8``) and ``-0`` are valid numeric input
  and give the value and scale psycopg's dumper gives (it sends the same ``str``); an integer as
  ``str(int)``; a date as ISO ``YYYY-MM-DD`` (``str(date)``);
* text: a backslash, tab, newline or carriage return inside a value is written as ``\\\\``, ``\\t``,
  ``\\n``, ``\\r`` (psycopg also escapes backspace, vertical tab and form feed; PostgreSQL reads
  those characters the same unescaped, so the stored text is the same). Free texts (account numbers,
  units, methods, formulas, notes) go through :class:`_Escaped`, a per-COPY cache: a building has a
  few distinct formulas and notes, and each account's number is escaped once.
* the enum columns (service, kind, zone, method of a volume) are the enums' fixed values, which
  contain none of those characters; a period prints as ``YYYY-MM``.

``tests/billing/test_close_io.py`` compares the stored rows with psycopg's own ``write_row`` of the
same values, including awkward texts and ``Decimal``\\ s (hypothesis).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from meterhub.billing.rules.charges import AccountCharges, ChargeLine

__all__ = ["charge_lines_text", "period_volumes_text"]

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class _Escaped(dict[str, str]):
    """text → the text escaped for a COPY field (computed on first use)."""

    def __missing__(self, text: str) -> str:
        escaped = self[text] = text.translate(_ESCAPES)
        return escaped


class _Days(dict[date, str]):
    """date → ISO text (a building's lines share a few dates; ``str(date)`` is ≈ 0.5 µs)."""

    def __missing__(self, day: date) -> str:
        text = self[day] = str(day)
        return text


_NULL = "\\N"


def _opt(value: Decimal | int | None) -> str:
    return _NULL if value is None else str(value)


def charge_lines_text(building: str, lines: Iterable[ChargeLine]) -> str:
    """The COPY text of ``lines`` in the columns of ``results_store._LINE_COLUMNS``."""
    e = _Escaped()
    b = e[building]
    days = _Days()
    period: object = None
    heads: dict[str, str] = {}  # account → the row's first three fields (for the current period)
    rows = []
    for x in lines:
        if x.period is not period:
            period, heads = x.period, {}
        head = heads.get(x.account)
        if head is None:
            head = heads[x.account] = f"{b}\t{period!s}\t{e[x.account]}\t"
        awc = x.amount_without_coefficient
        rows.append(
            f"{head}{x.service!s}\t{x.kind!s}\t{x.zone!s}\t{days[x.part_start]}\t{days[x.part_end]}\t"
            f"{x.volume!s}\t{e[x.unit]}\t{x.tariff!s}\t{x.coefficient!s}\t{e[x.method]}\t{e[x.formula]}\t"
            f"{x.amount_exact!s}\t{x.amount!s}\t{_NULL if awc is None else str(awc)}\t{x.excess!s}\t"
            f"{e[x.note]}\n"
        )
    return "".join(rows)


def period_volumes_text(building: str, period: str, accounts: Iterable[AccountCharges]) -> str:
    """The COPY text of the accounts' zone volumes in the columns of ``results_store._VOLUME_COLUMNS``."""
    e = _Escaped()
    head = f"{e[building]}\t{e[period]}\t"
    rows = []
    for acc in accounts:
        a = f"{head}{e[acc.account]}\t"
        for v in acc.volumes.values():
            s = f"{a}{v.service!s}\t"
            t = (
                f"\t{v.method!s}\t{e[v.formula]}\t{_opt(v.persons)}\t{_opt(v.normative)}\t"
                f"{v.coefficient!s}\t{_opt(v.average_months)}\t{e[v.note]}\n"
            )
            for zone, volume in v.zone_volumes.items():
                rows.append(f"{s}{zone!s}\t{volume!s}{t}")
    return "".join(rows)
