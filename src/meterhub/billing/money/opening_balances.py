"""Opening balances from a legacy system (входящее сальдо) as the money side reads them (docs/migration.md).

The debts imported with ``opening_balances.csv`` (table ``opening_debts``) are debts like the close's own:
the ledger counts a principal row as charged and a penalty row as penalties in its legacy period, so they
open the first meterhub period's balance; payments pay them oldest first. Two things differ:

* **due date** — each legacy principal debt keeps the due date the legacy system gave it
  (:func:`opening_due_dates`); penalties count their days from it;
* **penalties before the cutover are the legacy system's** — what it accrued and was not paid is the
  imported penalty row. meterhub accrues only the days from the cutover on: a legacy debt's penalty
  running total starts from :func:`penalty_baseline`, the amount meterhub's own rules give for the days up
  to the day before the cutover (same base, same due date), so the first close adds the days of its period
  only and the 1/300 → 1/130 step still falls on the legacy due date's 91st day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from meterhub.billing.rules.debt_penalty import ServiceDebt, compute_debt_penalty
from meterhub.billing.rules.penalties import PenaltyRules, PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import to_kopecks

__all__ = [
    "BeforeCutoverError",
    "OpeningDebt",
    "check_after_cutover",
    "opening_due_dates",
    "opening_penalties",
    "opening_principal",
    "penalty_baseline",
]


class BeforeCutoverError(ValueError):
    """A period before the building's first meterhub period: the legacy system billed it."""


def check_after_cutover(conn: psycopg.Connection, building_id: str, period: BillingPeriod) -> None:
    """Raise :class:`BeforeCutoverError` when ``period`` precedes the building's cutover (its opening
    balances already hold what the legacy system charged for it; computing it again would bill it twice)."""
    row = conn.execute(
        "SELECT first_period FROM legacy_cutovers WHERE building_id = %s", (building_id,)
    ).fetchone()
    if row is not None and str(period) < row[0]:
        raise BeforeCutoverError(
            f"building {building_id}: period {period} is before its first meterhub period {row[0]} "
            "(the legacy system billed it; its debts are the opening balances, docs/migration.md)"
        )


DebtKey = tuple[str, str, str]  # (account, debt period, service)


@dataclass(frozen=True, slots=True)
class OpeningDebt:
    """A legacy principal debt: its due date and the day meterhub's penalty accrual takes over."""

    due_date: date
    cutover: date
    """The first day of the building's first meterhub period."""


def opening_principal(conn: psycopg.Connection, account_nos: Sequence[str]) -> dict[DebtKey, OpeningDebt]:
    """(account, period, service) → :class:`OpeningDebt` of the accounts' legacy principal debts."""
    rows = conn.execute(
        "SELECT o.account_no, o.period, o.service, o.due_date, c.first_period FROM opening_debts o"
        " JOIN accounts a USING (account_no) JOIN legacy_cutovers c USING (building_id)"
        " WHERE o.account_no = ANY(%s) AND o.kind = 'principal'",
        (list(account_nos),),
    )
    return {
        (account, period, service): OpeningDebt(due, BillingPeriod.parse(first).first_day)
        for account, period, service, due, first in rows
    }


def opening_penalties(conn: psycopg.Connection, account_nos: Sequence[str]) -> dict[DebtKey, int]:
    """(account, period, service) → the legacy penalty unpaid at the cutover [kopecks]."""
    rows = conn.execute(
        "SELECT account_no, period, service, amount_kopecks FROM opening_debts"
        " WHERE account_no = ANY(%s) AND kind = 'penalty'",
        (list(account_nos),),
    )
    return {(account, period, service): kopecks for account, period, service, kopecks in rows}


def opening_due_dates(conn: psycopg.Connection, account_nos: Sequence[str]) -> dict[tuple[str, str], date]:
    """(account, legacy period) → the earliest due date of its legacy principal debts (of its penalty
    rows when the principal was paid): a legacy period's due date wherever it is not the law's."""
    rows = conn.execute(
        "SELECT account_no, period,"
        " coalesce(min(due_date) FILTER (WHERE kind = 'principal'), min(due_date)) FROM opening_debts"
        " WHERE account_no = ANY(%s) GROUP BY 1, 2",
        (list(account_nos),),
    )
    return {(account, period): due for account, period, due in rows}


def penalty_baseline(
    debt: OpeningDebt,
    period: BillingPeriod,
    principals: Mapping[str, int],
    tables: PenaltyTables,
    rules: PenaltyRules | None = None,
) -> dict[str, int]:
    """The penalty of a legacy debt up to the day before the cutover by meterhub's rules, per service
    [kopecks]: one debt over its services (``principals``: service → principal kopecks), rounded once and
    split by the largest remainder like every penalty (Decisions 2, 10).

    meterhub's running total of the debt's penalty starts from it, so only days from the cutover on are
    added (those before are the legacy system's, imported as its unpaid penalty). Raises ``LookupError``
    when the penalty tables do not cover the day before the cutover.
    """
    as_of = debt.cutover - timedelta(days=1)
    if debt.due_date >= as_of:
        return dict.fromkeys(principals, 0)
    parts = [ServiceDebt(service, Decimal(kopecks).scaleb(-2)) for service, kopecks in principals.items()]
    result = compute_debt_penalty(period, debt.due_date, parts, as_of=as_of, tables=tables, rules=rules)
    return {part.service: to_kopecks(part.amount) for part in result.services}
