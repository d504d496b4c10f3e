"""Receipts from the database: one building's period in a handful of set-based queries → :class:`Receipt`s.

Sources (all written by the close, the money side or ``meterhub import``):

* ``buildings``, ``premises``, ``accounts``, ``resident_counts`` (or the register, ``meterhub.registry``,
  where the building keeps it) — Раздел 1;
* ``receipt_payees`` (migration 0120, import entity ``payees``) — the provider and the payee's bank
  requisites, a building's own row replacing the ``'*'`` row — Раздел 1–2 and the QR code;
* the ledger (:mod:`.balances`) — opening balance, charged, recalculated, penalties, paid — Раздел 2;
* ``charge_lines`` — Раздел 3, one row per service × zone × tariff;
* ``recalculation_lines`` (corrections of closed periods) and ``service_recalculation_lines`` (absence,
  interruptions, poor quality) — the recalculation column of Раздел 3 and Раздел 5;
* ``normatives``, ``period_common_property``, ``meter_links`` + ``readings`` — Раздел 4.

:func:`iter_receipts` streams one building's receipts (the batch path); :func:`load_receipt` is one
account's. Both read the same queries, filtered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from meterhub.billing.close.heating.store import heating_references
from meterhub.billing.close.repository import get_building, normatives_on, residents_on
from meterhub.billing.money.payment_qr import (
    Payee,
    PaymentPayloadError,
    QrCharset,
    ReceiptPayment,
    receipt_payment_payload,
)
from meterhub.billing.money.suppliers.receipt_parts import PayeeShare, payee_shares
from meterhub.billing.receipts.balances import building_period_balances, last_payment_dates
from meterhub.billing.receipts.labels import (
    register_title,
    service_title,
)
from meterhub.billing.receipts.link_code import account_link_code
from meterhub.billing.receipts.model import (
    ZERO,
    MeterReading,
    PayeePart,
    Payer,
    Provider,
    RecalculationRow,
    Receipt,
    ReceiptDataError,
    StateIds,
    Totals,
    validate_payee,
)
from meterhub.billing.receipts.rows import charge_rows, service_references, with_benefits
from meterhub.billing.rules.penalties import PenaltyTables
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.registry.payers import register_payer_names

__all__ = [
    "AccountInfo",
    "PayeeRow",
    "StateIdsSource",
    "iter_receipts",
    "load_payee",
    "load_receipt",
    "payer_of",
    "set_state_ids_source",
]

StateIdsSource = Callable[[psycopg.Connection, Sequence[str], BillingPeriod], Mapping[str, StateIds]]
"""``(conn, account_nos, period) → {account_no: StateIds}``: where the ГИС ЖКХ identifiers come from."""

_state_ids_source: StateIdsSource | None = None


def set_state_ids_source(source: StateIdsSource | None) -> None:
    """Plug in where receipts read the ГИС ЖКХ identifiers (ЕЛС, ИЖКУ, payment document id) they print.

    The exchange stage keeps them and sits downstream of billing, so the wiring (``meterhub.cli``) plugs its
    lookup in here; without a source, receipts print none.
    """
    global _state_ids_source
    _state_ids_source = source


REASONS = {
    "absence": "временное отсутствие",
    "interruption": "перерыв в предоставлении услуги",
    "poor_quality": "услуга ненадлежащего качества",
}


@dataclass(frozen=True, slots=True)
class PayeeRow:
    provider: Provider
    payee: Payee


@dataclass(frozen=True, slots=True)
class AccountInfo:
    account_no: str
    premise_no: str
    owner_name: str
    share: Decimal
    owners: int
    residential: bool
    premise_area: Decimal


def load_payee(conn: psycopg.Connection, building_id: str) -> PayeeRow:
    """The building's provider and payee (its own ``receipt_payees`` row, else the ``'*'`` row), validated."""
    row = conn.execute(
        "SELECT applies_to, name, payee_name, inn, kpp, address, phone, email, website, bank_name, bic, "
        "settlement_account, correspondent_account FROM receipt_payees WHERE applies_to IN (%s, '*') "
        "ORDER BY applies_to = '*' LIMIT 1",
        (building_id,),
    ).fetchone()
    if row is None:
        raise ReceiptDataError(
            f"building {building_id}: no payee bank details (получатель платежа); import a payees.csv with "
            f"applies_to = {building_id} or * (columns: name, inn, kpp, bank_name, bic, settlement_account, "
            f"correspondent_account …; see docs/receipts.md)"
        )
    applies_to, name, payee_name, inn, kpp, address, phone, email, website, bank, bic, account, corr = row
    provider = Provider(name, inn, kpp, address, phone, email, website)
    payee = Payee(payee_name or name, account, bank, bic, corr, inn=inn, kpp=kpp)
    validate_payee(payee, f"receipt_payees row {applies_to!r} (building {building_id})")
    return PayeeRow(provider, payee)


def _group(rows: Sequence[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def payer_of(account: AccountInfo, address: str, persons: int, name: str | None = None) -> Payer:
    """Раздел 1's payer; ``name`` (the register's owners, :mod:`meterhub.registry.payers`) replaces the
    account's stored owner name when given."""
    premise = f"кв. {account.premise_no}" if account.residential else f"пом. {account.premise_no}"
    return Payer(
        account.account_no,
        name or account.owner_name,
        f"{address}, {premise}",
        account.premise_no,
        account.premise_area * account.share,
        account.residential,
        persons,
        account.owners,
    )


def _accounts(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, account_nos: Sequence[str] | None
) -> list[AccountInfo]:
    rows = conn.execute(
        """
        SELECT a.account_no, a.premise_no, a.owner_name, a.share, a.owners, p.residential, p.area
        FROM accounts a JOIN premises p USING (building_id, premise_no)
        WHERE a.building_id = %(b)s AND (%(acc)s::text[] IS NULL OR a.account_no = ANY(%(acc)s))
          AND (EXISTS (SELECT 1 FROM charge_lines c WHERE c.building_id = %(b)s AND c.period = %(p)s
                       AND c.account_no = a.account_no)
               OR EXISTS (SELECT 1 FROM recalculation_lines r WHERE r.building_id = %(b)s
                          AND r.period = %(p)s AND r.account_no = a.account_no))
        ORDER BY a.premise_no ~ '^[0-9]+$' DESC,
                 CASE WHEN a.premise_no ~ '^[0-9]+$' THEN a.premise_no::bigint END, a.premise_no, a.account_no
        """,
        {"b": building_id, "p": str(period), "acc": list(account_nos) if account_nos is not None else None},
    ).fetchall()
    return [AccountInfo(*r) for r in rows]


_READINGS = """
SELECT l.premise_no, l.meter_id, l.service, m.verification_due, r.register,
       (SELECT x.value::numeric FROM reading_values x WHERE x.series_id = r.series_id AND x.ts <= %(start)s
         ORDER BY x.ts DESC LIMIT 1),
       (SELECT x.value::numeric FROM reading_values x WHERE x.series_id = r.series_id AND x.ts <= %(end)s
         ORDER BY x.ts DESC LIMIT 1)
FROM meter_links l JOIN meters m USING (meter_id) JOIN meter_registers r USING (meter_id)
WHERE l.building_id = %(b)s AND l.valid_from < %(end_day)s
  AND (l.valid_to IS NULL OR l.valid_to > %(first_day)s) AND r.cumulative
  AND (l.premise_no IS NULL OR %(premises)s::text[] IS NULL OR l.premise_no = ANY(%(premises)s))
ORDER BY l.premise_no NULLS FIRST, l.service, l.meter_id, r.register
"""


def _readings(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    time_zone: str,
    premises: Sequence[str] | None,
) -> tuple[list[MeterReading], dict[str, list[MeterReading]]]:
    start, end = period.bounds_utc(time_zone)
    rows = conn.execute(
        _READINGS,
        {
            "b": building_id,
            "start": start,
            "end": end,
            "first_day": period.first_day,
            "end_day": period.end_day,
            "premises": list(premises) if premises is not None else None,
        },
    ).fetchall()
    house: list[MeterReading] = []
    by_premise: dict[str, list[MeterReading]] = defaultdict(list)
    for premise, meter_id, service, due, register, previous, current in rows:
        reading = MeterReading(
            meter_id, service, service_title(service), register_title(register), premise is None,
            previous, current, due,
        )  # fmt: skip
        (house if premise is None else by_premise[premise]).append(reading)
    return house, by_premise


def iter_receipts(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    *,
    account_nos: Sequence[str] | None = None,
    issued_on: date,
    link_secret: str | None = None,
    charset: QrCharset = QrCharset.UTF_8,
    tables: PenaltyTables | None = None,
) -> Iterator[Receipt]:
    """The receipts of ``building_id`` for ``period``: accounts with charge or recalculation lines in it,
    in premise order.

    ``account_nos`` restricts them; ``issued_on`` is the print date (inject the clock); ``link_secret``
    prints each account's link code (None: no code). Raises :class:`ReceiptDataError` when the building,
    the period or the payee is missing; the queries run before the first receipt is yielded.
    """
    building = get_building(conn, building_id)
    if building is None:
        raise ReceiptDataError(f"building {building_id!r} is not in the buildings table; import it first")
    status_row = conn.execute(
        "SELECT status FROM billing_periods WHERE building_id = %s AND period = %s",
        (building_id, str(period)),
    ).fetchone()
    if status_row is None:
        raise ReceiptDataError(
            f"building {building_id}: period {period} has not been computed; run "
            f"`meterhub close --period {period} --building {building_id}` first"
        )
    status = status_row[0]
    payee_row = load_payee(conn, building_id)
    accounts = _accounts(conn, building_id, period, account_nos)
    if not accounts:
        return
    numbers = [a.account_no for a in accounts]
    args = {"b": building_id, "p": str(period), "acc": numbers}
    lines = _group(
        conn.execute(
            "SELECT account_no, service, kind, zone, volume, unit, tariff, coefficient, method, amount, "
            "excess FROM charge_lines "
            "WHERE building_id = %(b)s AND period = %(p)s AND account_no = ANY(%(acc)s) "
            "ORDER BY account_no, service, kind, zone, part_start",
            args,
        ).fetchall()
    )
    recalcs = _group(
        conn.execute(
            "SELECT account_no, service, reason, corrects_period, amount FROM recalculation_lines "
            "WHERE building_id = %(b)s AND period = %(p)s AND account_no = ANY(%(acc)s) "
            "UNION ALL "
            "SELECT account_no, service, reason_kind || ': ' || reason, NULL, "
            "(amount_kopecks::numeric / 100)::numeric(14, 2) FROM service_recalculation_lines "
            "WHERE building_id = %(b)s AND period = %(p)s AND account_no = ANY(%(acc)s) "
            "ORDER BY 1, 2, 4 NULLS LAST, 3",
            args,
        ).fetchall()
    )
    common = {
        service: (house, individual, distributed)
        for service, house, individual, distributed in conn.execute(
            "SELECT service, house_volume, individual_total, distributed FROM period_common_property "
            "WHERE building_id = %s AND period = %s",
            (building_id, str(period)),
        )
    }
    common.update(heating_references(conn, building_id, period))  # Раздел 4: the house's heat
    persons = residents_on(conn, building_id, period.first_day)  # the register's where the building keeps it
    payer_names = register_payer_names(conn, building_id, period.end_day - timedelta(days=1))
    normatives = normatives_on(conn, building_id, period.first_day)
    house_readings, premise_readings = _readings(
        conn, building_id, period, building.time_zone, [a.premise_no for a in accounts]
    )
    balances = building_period_balances(conn, period, account_nos=numbers)
    last_paid = last_payment_dates(conn, numbers, issued_on)
    due = (tables or PenaltyTables.default()).due_date(period)
    state_ids = _state_ids_source(conn, numbers, period) if _state_ids_source is not None else {}
    shares = payee_shares(conn, building_id, period, numbers)
    for account in accounts:
        account_lines = lines.get(account.account_no, [])
        recalculation_rows: list[RecalculationRow] = []
        recalculation_by_service: dict[str, Decimal] = defaultdict(lambda: ZERO)
        benefits_by_service: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for service, reason, corrects, amount in recalcs.get(account.account_no, []):
            kind, sep, text = reason.partition(": ")
            if kind == "benefit":  # discount-regime benefits go to the «льготы, субсидии» column
                benefits_by_service[service] -= amount
                continue
            if sep and kind in REASONS:
                reason = f"{REASONS[kind]}: {text}" if text else REASONS[kind]
            recalculation_rows.append(
                RecalculationRow(service, service_title(service), reason, corrects, amount)
            )
            recalculation_by_service[service] += amount
        rows = with_benefits(charge_rows(account_lines, dict(recalculation_by_service)), benefits_by_service)
        balance = balances[account.account_no]
        benefits = sum(benefits_by_service.values(), ZERO)
        totals = Totals(
            opening=balance.opening,
            charged=balance.charged,
            recalculated=balance.recalculated + benefits,
            benefits=benefits,
            penalties=balance.penalties,
            paid=balance.paid,
            last_payment_on=last_paid.get(account.account_no),
        )
        payer = payer_of(
            account, building.address, persons.get(account.account_no, 0), payer_names.get(account.account_no)
        )
        services = sorted({line[0] for line in account_lines})
        readings = tuple(house_readings) + tuple(premise_readings.get(account.premise_no, []))
        payload = _qr_payload(payee_row.payee, payer, period, totals.qr_amount, charset)
        parts = _payee_parts(shares.get(account.account_no, ()), payee_row.payee, payer, period, charset)
        if parts:
            payload = parts[0].qr_payload  # Раздел 2's QR asks for the own payee's part only
        yield Receipt(
            period=period,
            status=status,
            document_id=f"{account.account_no}-{period.year:04d}{period.month:02d}",
            issued_on=issued_on,
            due_date=due,
            payer=payer,
            provider=payee_row.provider,
            payee=payee_row.payee,
            building_id=building_id,
            rows=rows,
            recalculations=tuple(recalculation_rows),
            totals=totals,
            references=service_references(services, normatives, common),
            readings=readings,
            qr_payload=payload,
            link_code=account_link_code(account.account_no, link_secret, str(period))
            if link_secret
            else None,
            state_ids=state_ids.get(account.account_no),
            payee_parts=parts,
        )


def _payee_parts(
    shares: Sequence[PayeeShare], own: Payee, payer: Payer, period: BillingPeriod, charset: QrCharset
) -> tuple[PayeePart, ...]:
    """Each payee's part with its own QR payload (the receipt's own payee first)."""
    parts = []
    for share in shares:
        payee = share.payee or own
        amount = Decimal(share.kopecks).scaleb(-2).quantize(Decimal("0.01"))
        payload = _qr_payload(payee, payer, period, max(amount, ZERO), charset)
        parts.append(PayeePart(payee, share.services, amount, payload, own=share.payee is None))
    return tuple(parts)


def _qr_payload(
    payee: Payee, payer: Payer, period: BillingPeriod, amount: Decimal, charset: QrCharset
) -> bytes:
    last_name = payer.name.split()[0] if payer.name.strip() else None
    payment = ReceiptPayment(
        payee,
        amount,
        payer.account_no,
        period,
        last_name=last_name,
        payer_address=payer.address[:160] or None,
    )
    try:
        return receipt_payment_payload(payment, charset)
    except PaymentPayloadError as exc:
        raise ReceiptDataError(f"account {payer.account_no}: payment QR code: {exc}") from None


def load_receipt(
    conn: psycopg.Connection,
    account_no: str,
    period: BillingPeriod,
    *,
    issued_on: date,
    link_secret: str | None = None,
    charset: QrCharset = QrCharset.UTF_8,
) -> Receipt:
    """One account's receipt for ``period``; :class:`ReceiptDataError` when it has no charges in it."""
    row = conn.execute("SELECT building_id FROM accounts WHERE account_no = %s", (account_no,)).fetchone()
    if row is None:
        raise ReceiptDataError(f"account {account_no!r} does not exist; check the number")
    receipt = next(
        iter_receipts(
            conn, row[0], period, account_nos=[account_no], issued_on=issued_on, link_secret=link_secret,
            charset=charset,
        ),
        None,
    )  # fmt: skip
    if receipt is None:
        raise ReceiptDataError(
            f"account {account_no}: no charges in period {period} (building {row[0]}); "
            f"the period was computed without this account"
        )
    return receipt
