"""The receipt model (модель ЕПД): what one payment document shows, as plain frozen dataclasses.

Pure data, no I/O: :mod:`.loader` fills it from the database, :mod:`.pdf` draws it. The sections follow
the sample form of Приказ Минстроя России от 26.01.2018 № 43/пр (billing-rules.md §5.2):

1. payer and provider (плательщик, исполнитель) — :class:`Payer`, :class:`Provider`;
2. payment details (реквизиты для оплаты) — :class:`~meterhub.billing.money.payment_qr.Payee`,
:class:`Totals`,
   the QR payload and the account-link code;
3. the charge table (расчёт размера платы) — :class:`ChargeRow`;
4. reference data (справочная информация) — :class:`ServiceReference`, :class:`MeterReading`;
5. recalculations (сведения о перерасчётах) — :class:`RecalculationRow`;
6. instalments (рассрочка) — :class:`Instalment` (none is granted today: the section prints "—").

Money is ``Decimal`` rubles rounded to kopecks (each row as stored by the close); totals are sums of the
rounded rows (Decision 1), so the printed total equals the sum of the printed lines to the kopeck.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from meterhub.billing.money.payment_qr import Payee
from meterhub.billing.rules.periods import BillingPeriod

__all__ = [
    "ChargeRow",
    "DebtLine",
    "DebtReceipt",
    "Instalment",
    "MeterReading",
    "PayeePart",
    "Payer",
    "Provider",
    "RecalculationRow",
    "Receipt",
    "ReceiptDataError",
    "ServiceReference",
    "StateIds",
    "Totals",
    "payee_problems",
    "validate_payee",
]

ZERO = Decimal("0.00")

_BIC_RE = re.compile(r"^\d{9}$")
_ACCOUNT_RE = re.compile(r"^[1-9]\d{4}[0-9ABCEHKMPTX]\d{14}$")
_CORR_RE = re.compile(r"^(0|[1-9]\d{4}[0-9ABCEHKMPTX]\d{14})$")
_INN_RE = re.compile(r"^\d{10}(\d{2})?$")
_KPP_RE = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")


class ReceiptDataError(ValueError):
    """A receipt cannot be produced from the data; the message names the account, field and the fix."""


def payee_problems(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of a payee's requisites as ``(column, message)`` pairs (empty when all are valid).

    ``row`` has the columns of ``payees`` import files / the ``receipt_payees`` table: ``name``,
    ``payee_name``, ``inn``, ``kpp``, ``bank_name``, ``bic``, ``settlement_account``,
    ``correspondent_account`` (None for an optional value that is absent).
    """
    problems: list[tuple[str, str]] = []
    for column in ("name", "payee_name"):
        value = row.get(column)
        if value is None and column == "payee_name":
            continue
        if not (value or "").strip():
            problems.append((column, "is empty; give the organisation's name as printed on the receipt"))
        elif len(value) > 160:
            problems.append((column, f"is {len(value)} characters; at most 160 fit the payment QR code"))
    bank = row.get("bank_name") or ""
    if not bank.strip() or len(bank) > 45:
        problems.append(("bank_name", f"{bank!r} must be 1–45 characters (ГОСТ Р 56042 BankName)"))
    bic = row.get("bic") or ""
    if not _BIC_RE.match(bic):
        problems.append(("bic", f"БИК {bic!r} must be exactly 9 digits, e.g. 044525225"))
    account = row.get("settlement_account") or ""
    if not _ACCOUNT_RE.match(account):
        problems.append(
            (
                "settlement_account",
                f"расчётный счёт {account!r} must be 20 characters: 5 digits (the first not 0), a digit or "
                f"one of ABCEHKMPTX, 14 digits, e.g. 40702810900000000001",
            )
        )
    corr = row.get("correspondent_account") or ""
    if not _CORR_RE.match(corr):
        problems.append(
            (
                "correspondent_account",
                f"корр. счёт {corr!r} must be 20 digits (e.g. 30101810400000000225), or 0 when the bank "
                f"has none",
            )
        )
    inn = row.get("inn")
    if inn is not None and not _INN_RE.match(inn):
        problems.append(("inn", f"ИНН {inn!r} must be 10 digits (organisation) or 12 (individual)"))
    kpp = row.get("kpp")
    if kpp is not None and not _KPP_RE.match(kpp):
        problems.append(("kpp", f"КПП {kpp!r} must be 9 characters: 4 digits, 2 digits or A–Z, 3 digits"))
    return problems


def validate_payee(payee: Payee, where: str = "payee") -> None:
    """Check the payee's bank requisites before anything is drawn (БИК, расчётный счёт, к/с, ИНН, КПП).

    ``where`` names the source in the message (e.g. ``"receipt_payees row '*'"``). Raises
    :class:`ReceiptDataError` naming each wrong field, what it holds and what it must be.
    """
    problems = payee_problems(
        {
            "name": payee.name,
            "inn": payee.inn,
            "kpp": payee.kpp,
            "bank_name": payee.bank_name,
            "bic": payee.bic,
            "settlement_account": payee.personal_account,
            "correspondent_account": payee.correspondent_account,
        }
    )
    if problems:
        raise ReceiptDataError(f"{where}: " + "; ".join(f"{column}: {msg}" for column, msg in problems))


@dataclass(frozen=True, slots=True)
class Payer:
    """Раздел 1: the payer (плательщик) and the premise."""

    account_no: str
    name: str
    address: str
    """Building address with the premise number (``г. Омск, ул. Ленина, д. 1, кв. 2``)."""
    premise_no: str
    total_area: Decimal
    """Общая площадь of the account (premise area × share) [m²]."""
    residential: bool
    persons: int
    """Количество проживающих (registered + temporary) on the first day of the period."""
    owners: int


@dataclass(frozen=True, slots=True)
class Provider:
    """Раздел 1: the provider of services (исполнитель услуг)."""

    name: str
    inn: str | None = None
    kpp: str | None = None
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""


@dataclass(frozen=True, slots=True)
class ChargeRow:
    """One row of Раздел 3: a service (and tariff zone) with its individual and common-property parts."""

    service: str
    """Service code (``electricity``, ``cold_water`` …)."""
    title: str
    """Russian name with the zone, e.g. ``Электроснабжение (день)``."""
    unit: str
    """Russian unit (``кВт·ч``, ``куб. м``, ``кв. м``)."""
    volume_individual: Decimal | None
    volume_common: Decimal | None
    method: str
    """Способ определения объёма in Russian (``прибор учёта``, ``норматив`` …)."""
    tariff: Decimal | None
    """[₽/unit] or [₽/m²]; None for a row that only carries a recalculation."""
    amount_individual: Decimal
    amount_common: Decimal
    coefficient: Decimal | None
    """Повышающий коэффициент when one was applied (1.5), else None."""
    excess: Decimal
    """Размер превышения платы с коэффициентом над платой без него [₽]."""
    recalculation: Decimal
    """Перерасчёты of this service booked in the period [₽] (+ доначисление, − уменьшение)."""
    benefits: Decimal = ZERO
    """Льготы, субсидии [₽] (none are stored today)."""

    @property
    def charged(self) -> Decimal:
        """Всего начислено за расчётный период [₽]."""
        return self.amount_individual + self.amount_common

    @property
    def total(self) -> Decimal:
        """Итого к оплате за расчётный период [₽] = начислено + перерасчёты − льготы."""
        return self.charged + self.recalculation - self.benefits


@dataclass(frozen=True, slots=True)
class RecalculationRow:
    """Раздел 5: one recalculation (основание, сумма; + доначисление, − уменьшение)."""

    service: str
    title: str
    reason: str
    corrected_period: str | None
    """The closed period corrected (``2025-12``), or None for a reduction of this period itself."""
    amount: Decimal


@dataclass(frozen=True, slots=True)
class MeterReading:
    """Раздел 4: readings of one register of an apartment (ИПУ) or house (ОДПУ) meter at the period bounds."""

    meter_id: str
    service: str
    title: str
    register: str
    """Register label in Russian (``T1 (день)``, ``общий``)."""
    house: bool
    previous: Decimal | None
    """The last reading at or before the period's start (local midnight), None when there is none."""
    current: Decimal | None
    """The last reading at or before the period's end."""
    verification_due: date | None = None

    @property
    def consumption(self) -> Decimal | None:
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous


@dataclass(frozen=True, slots=True)
class ServiceReference:
    """Раздел 4: normatives and house totals of one service."""

    service: str
    title: str
    unit: str
    normative_individual: Decimal | None
    """Норматив потребления в жилых помещениях [unit per person per month]."""
    normative_common: Decimal | None
    """Норматив на СОИ [unit per m² of common area per month]."""
    house_meter_volume: Decimal | None
    """Показания ОДПУ: house consumption in the period [unit]; None without a house meter."""
    volume_in_premises: Decimal | None
    """Суммарный объём в помещениях дома [unit]."""
    volume_common: Decimal | None
    """Суммарный объём на СОИ (distributed to the premises) [unit]."""


@dataclass(frozen=True, slots=True)
class Instalment:
    """Раздел 6: an instalment (рассрочка) of a payment — amount, interest [₽, %]."""

    from_period_amount: Decimal
    from_previous_amount: Decimal
    interest_amount: Decimal
    interest_percent: Decimal

    @property
    def total(self) -> Decimal:
        return self.from_period_amount + self.from_previous_amount + self.interest_amount


@dataclass(frozen=True, slots=True)
class Totals:
    """Раздел 2: what is owed [₽]. ``to_pay`` = opening + charged + recalculated + penalties − paid."""

    opening: Decimal
    """Задолженность (+) или аванс (−) на начало периода."""
    charged: Decimal
    recalculated: Decimal
    penalties: Decimal
    paid: Decimal
    """Оплачено в расчётном периоде."""
    last_payment_on: date | None = None
    benefits: Decimal = ZERO
    """Льготы, субсидии (discount regime, docs/benefits.md), not included in ``recalculated``."""

    @property
    def for_period(self) -> Decimal:
        """Сумма к оплате за расчётный период (начислено + перерасчёты − льготы)."""
        return self.charged + self.recalculated - self.benefits

    @property
    def to_pay(self) -> Decimal:
        """Итого к оплате с учётом задолженности / аванса и пеней (may be negative: an overpayment)."""
        return self.opening + self.charged + self.recalculated - self.benefits + self.penalties - self.paid

    @property
    def qr_amount(self) -> Decimal:
        """What the QR code asks to pay: ``to_pay``, never below 0."""
        return max(self.to_pay, ZERO)


@dataclass(frozen=True, slots=True)
class StateIds:
    """Identifiers ГИС ЖКХ assigned that the 43/пр form prints (None: not assigned yet)."""

    els: str | None = None
    """Единый лицевой счёт (ЕЛС)."""
    izhku: str | None = None
    """Идентификатор жилищно-коммунальной услуги (ИЖКУ)."""
    payment_document_id: str | None = None
    """Идентификатор платёжного документа in ГИС ЖКХ."""


@dataclass(frozen=True, slots=True)
class PayeePart:
    """Раздел 2 with several payees: one payee's part and its own QR code (docs/suppliers.md)."""

    payee: Payee
    services: tuple[str, ...]
    """Service codes whose money goes to this payee (empty: the receipt's own payee for the advance only)."""
    amount: Decimal
    """This payee's part of «итого к оплате» [₽] (may be negative: an overpayment of its services)."""
    qr_payload: bytes
    """ГОСТ Р 56042 payload asking for ``max(amount, 0)`` to this payee."""
    own: bool = False
    """The receipt's own payee (the УК / исполнитель), whose QR is the one in Раздел 2."""


@dataclass(frozen=True, slots=True)
class Receipt:
    """One account's ЕПД for one billing period."""

    period: BillingPeriod
    status: str
    """``closed`` (final) or ``draft`` (period not closed yet: printed as a preliminary calculation)."""
    document_id: str
    """Идентификатор платёжного документа (``<account>-<YYYYMM>``)."""
    issued_on: date
    due_date: date
    payer: Payer
    provider: Provider
    payee: Payee
    building_id: str
    rows: tuple[ChargeRow, ...]
    recalculations: tuple[RecalculationRow, ...]
    totals: Totals
    references: tuple[ServiceReference, ...]
    readings: tuple[MeterReading, ...]
    qr_payload: bytes
    """The ГОСТ Р 56042-2014 payload (raw bytes in its declared charset) the QR code encodes."""
    link_code: str | None = None
    """One-time code that links this account to a resident cabinet (None: not printed)."""
    instalment: Instalment | None = None
    state_ids: StateIds | None = None
    """ГИС ЖКХ identifiers printed in Раздел 2 (from the source set with
    :func:`~meterhub.billing.receipts.loader.set_state_ids_source`)."""
    payee_parts: tuple[PayeePart, ...] = ()
    """Several payees (docs/suppliers.md): each payee's part with its own QR; Σ amounts = «итого к оплате»
    and ``qr_payload`` is then the own payee's part. Empty: one payee for the whole receipt."""

    def __post_init__(self) -> None:
        charged = sum((r.charged for r in self.rows), ZERO)
        if charged != self.totals.charged:
            raise ReceiptDataError(
                f"account {self.payer.account_no}, period {self.period}: the charge rows add up to "
                f"{charged} ₽ but the ledger says {self.totals.charged} ₽ charged; re-run the close"
            )


@dataclass(frozen=True, slots=True)
class DebtLine:
    """One unpaid debt of a debt receipt: a period's principal (основной долг) and penalties (пени)."""

    period: BillingPeriod
    due_date: date
    principal: Decimal
    penalties: Decimal

    @property
    def total(self) -> Decimal:
        return self.principal + self.penalties


@dataclass(frozen=True, slots=True)
class DebtReceipt:
    """A receipt for the debt of an account as of a date (квитанция на оплату задолженности)."""

    as_of: date
    document_id: str
    issued_on: date
    payer: Payer
    provider: Provider
    payee: Payee
    building_id: str
    lines: tuple[DebtLine, ...]
    advance: Decimal
    """Unapplied advance (переплата) [₽, ≥ 0], subtracted from the total."""
    qr_payload: bytes
    link_code: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def principal(self) -> Decimal:
        return sum((line.principal for line in self.lines), ZERO)

    @property
    def penalties(self) -> Decimal:
        return sum((line.penalties for line in self.lines), ZERO)

    @property
    def to_pay(self) -> Decimal:
        return max(self.principal + self.penalties - self.advance, ZERO)
