"""Export of charges for payment agents (выгрузка начислений для платёжных агентов).

One row per account with something to pay for the period, in the registry CSV format that
:func:`~meterhub.billing.money.payment_registry.parse_payment_registry` reads (docs/billing-money.md):

``Лицевой счёт;Сумма;Дата;Период;Номер платежа;Назначение;Адрес;Плательщик``

* ``Сумма`` — the total to pay: Σ closing balance of the period over the account's services (debt of
  earlier periods, the period's charges, recalculations and penalties, minus payments and advances),
  decimal comma; accounts with nothing to pay are left out;
* ``Дата`` — the due date of the period (``PenaltyTables.due_date``), DD.MM.YYYY;
* ``Период`` — MM.YYYY; ``Номер платежа`` — ``<account>-<MMYYYY>``, the agent's reference for the bill;
* ``Назначение`` — ``Оплата ЖКУ за MM.YYYY ЛС <account>``; ``Адрес`` and ``Плательщик`` are for the
  agent (the registry reader ignores extra columns).

Separator ``;``, windows-1251 by default (what most banks' systems expect) or UTF-8.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import psycopg

from meterhub.billing.money.ledger import account_balances
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["HEADER", "AgentExport", "export_charges"]

HEADER = ("Лицевой счёт", "Сумма", "Дата", "Период", "Номер платежа", "Назначение", "Адрес", "Плательщик")


@dataclass(frozen=True, slots=True)
class AgentExport:
    data: bytes
    rows: int
    total_kopecks: int


def _rubles(kopecks: int) -> str:
    return f"{kopecks // 100},{kopecks % 100:02d}"


def export_charges(
    conn: psycopg.Connection,
    period: BillingPeriod,
    *,
    building_id: str | None = None,
    encoding: str = "cp1251",
    tables: PenaltyTables | None = None,
) -> AgentExport:
    """The CSV of what every account (of a building, or the city) has to pay for ``period``."""
    tables = tables or PenaltyTables.default()
    balances = account_balances(conn, period, building_id=building_id)
    info = {
        account_no: (f"{address}, кв. {premise}", owner)
        for account_no, address, premise, owner in conn.execute(
            "SELECT a.account_no, b.address, a.premise_no, a.owner_name FROM accounts a"
            " JOIN buildings b USING (building_id) WHERE %s::text IS NULL OR a.building_id = %s",
            (building_id, building_id),
        )
    }
    due = tables.due_date(period).strftime("%d.%m.%Y")
    mm_yyyy = f"{period.month:02d}.{period.year}"
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    rows = total = 0
    for account_no in sorted(balances):
        amount = sum(b.closing for b in balances[account_no])
        if amount <= 0:
            continue
        address, owner = info.get(account_no, ("", ""))
        writer.writerow(
            (
                account_no,
                _rubles(amount),
                due,
                mm_yyyy,
                f"{account_no}-{period.month:02d}{period.year}",
                f"Оплата ЖКУ за {mm_yyyy} ЛС {account_no}",
                address,
                owner,
            )
        )
        rows += 1
        total += amount
    return AgentExport(out.getvalue().encode(encoding, errors="replace"), rows, total)
