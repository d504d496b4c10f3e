"""importPaymentDocumentData (bills): the платёжные документы of a closed period, as the ЕПД prints them.

Built from :class:`meterhub.billing.receipts.Receipt` — the very model the ЕПД PDF is drawn from — so the
message and the printed receipt carry the same numbers: one ``ChargeInfo`` per Раздел 3 row (service ×
zone) with its tariff, individual and common-property volumes and amounts, the повышающий коэффициент
and its excess, recalculations (перерасчёты) and benefits (льготы); the debt or advance at the start of the
period, payments taken, пени (``PenaltiesAndCourtCosts``) and the totals of Раздел 2; the payee's bank
details (``PaymentInformation``). Maintenance (содержание жилого помещения) is a housing service
(``HousingService``), the resources are utility services (``MunicipalService``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from meterhub.billing.receipts import ChargeRow, Receipt
from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, MissingIdentifier, NsiRef, ensure_at_most
from meterhub.exchange.gis.xml import child, decimal_text, element, guid, money_text, nsi_ref

__all__ = ["MAX_DOCUMENTS", "VERSION", "PaymentDocumentIds", "build_payment_documents", "volume_method"]

VERSION = "11.2.0.16"
MAX_DOCUMENTS = 500  # PaymentDocument maxOccurs
HOUSING_SERVICES = frozenset({"maintenance"})
ZERO = Decimal("0.00")

_METHODS = {"прибор учёта": "M", "норматив": "N", "норматив × 1,5": "N", "ОДПУ": "M", "ОДПУ ≤ норматив": "M"}


@dataclass(frozen=True, slots=True)
class PaymentDocumentIds:
    """What ГИС ЖКХ returned for an account and its document of the period (None: not yet)."""

    account_guid: str | None
    payment_document_id: str | None


def volume_method(method: str) -> str:
    """Способ определения объёма of a Раздел 3 row → the schema's N (норматив), M (прибор учёта), O (иное)."""
    return _METHODS.get(method, "O")


def _money(parent, name: str, value: Decimal) -> None:
    child(parent, name, money_text(value))


def _rate(row: ChargeRow) -> str:
    return (
        money_text(row.tariff)
        if row.tariff is not None and row.tariff == row.tariff.quantize(Decimal("0.01"))
        else decimal_text((row.tariff or ZERO).quantize(Decimal("0.000001")))
    )


def _charge_info(parent, row: ChargeRow, ref: NsiRef, payment_key: str) -> None:
    info = child(parent, "bills:ChargeInfo")
    housing = row.service in HOUSING_SERVICES
    node = child(info, "bills:HousingService" if housing else "bills:MunicipalService")
    nsi_ref(node, "bills:ServiceType", ref.code, ref.guid, ref.name)
    child(node, "bills:Rate", _rate(row))
    _money(node, "bills:TotalPayable", row.total)
    _money(node, "bills:AccountingPeriodTotal", row.charged)
    child(node, "bills:PaymentInformationKey", payment_key)
    if row.recalculation != ZERO or row.benefits != ZERO:
        charge = child(node, "bills:ServiceCharge")
        if row.recalculation != ZERO:
            _money(charge, "bills:MoneyRecalculation", row.recalculation)
        if row.benefits != ZERO:
            _money(charge, "bills:MoneyDiscount", row.benefits)
    if housing:
        return
    if row.volume_individual is not None or row.volume_common is not None:
        consumption = child(node, "bills:Consumption")
        method = volume_method(row.method)
        for kind, volume in (("I", row.volume_individual), ("O", row.volume_common)):
            if volume is not None:
                child(consumption, "bills:Volume", decimal_text(volume.quantize(_VOL)), type=kind,
                      determiningMethod=method)  # fmt: skip
    if row.coefficient is not None:
        factor = child(node, "bills:MultiplyingFactor")
        child(factor, "bills:Ratio", decimal_text(row.coefficient))
        _money(factor, "bills:AmountOfExcessFees", row.excess)
    _money(node, "bills:MunicipalServiceIndividualConsumptionPayable", row.amount_individual)
    _money(node, "bills:MunicipalServiceCommunalConsumptionPayable", row.amount_common)


_VOL = Decimal("0.0001")


def build_payment_documents(
    receipts: Sequence[Receipt],
    ids: Mapping[str, PaymentDocumentIds],
    services: Mapping[str, NsiRef],
    new_guid: GuidFactory,
) -> BuiltMessage:
    """``importPaymentDocumentRequest`` of one period's receipts (all of one payee) to expose (выставить).

    ``ids`` maps account numbers to what ГИС ЖКХ returned; an account without an AccountGUID is skipped
    with the reason. ``services`` maps service codes (and ``penalties``) to the organisation's НСИ entries;
    a missing one is a :class:`MissingIdentifier` naming the service.
    """
    if not receipts:
        raise ValueError("no receipts to export")
    ensure_at_most(len(receipts), MAX_DOCUMENTS, "payment documents")
    periods = {r.period for r in receipts}
    if len(periods) != 1:
        raise ValueError(f"payment documents of one period per message, got {sorted(map(str, periods))}")
    period = periods.pop()
    body = element("bills:importPaymentDocumentRequest", **{"base:version": VERSION})
    built = BuiltMessage("importPaymentDocumentData", body)
    child(body, "base:Month", period.month)
    child(body, "base:Year", period.year)
    payment_keys: dict[tuple[str, str], str] = {}
    for receipt in receipts:
        key = (receipt.payee.bic, receipt.payee.personal_account)
        if key not in payment_keys:
            info = child(body, "bills:PaymentInformation")
            child(info, "payments-base:BankBIK", receipt.payee.bic)
            child(info, "payments-base:operatingAccountNumber", receipt.payee.personal_account)
            payment_keys[key] = built.add_transport_guid(info, "payment_information", "/".join(key), new_guid)
    for receipt in receipts:
        account_no = receipt.payer.account_no
        known = ids.get(account_no)
        if known is None or not known.account_guid:
            built.skipped.append(
                f"account {account_no}: no AccountGUID from ГИС ЖКХ yet "
                f"(export accounts and import the response)"
            )
            continue
        needed = {row.service for row in receipt.rows} | (
            {"penalties"} if receipt.totals.penalties else set()
        )
        missing = sorted(s for s in needed if s not in services)
        if missing:
            raise MissingIdentifier(
                f"НСИ entries for {', '.join(missing)} are not filled "
                f"(gis_nsi_refs kind 'service': registry, "
                f"code, GUID from the organisation's ГИС ЖКХ reference books); `meterhub gis nsi FILE`"
            )
        payment_key = payment_keys[(receipt.payee.bic, receipt.payee.personal_account)]
        doc = child(body, "bills:PaymentDocument")
        child(doc, "account-base:AccountGuid", guid(known.account_guid))
        child(doc, "bills-base:PaymentDocumentNumber", receipt.document_id[:30])
        for row in receipt.rows:
            _charge_info(doc, row, services[row.service], payment_key)
        totals = receipt.totals
        if totals.penalties:
            penalties = child(doc, "bills:PenaltiesAndCourtCosts")
            ref = services["penalties"]
            nsi_ref(penalties, "bills:ServiceType", ref.code, ref.guid, ref.name)
            child(penalties, "bills:Cause", "Пени за несвоевременную оплату (ЖК РФ ст. 155 ч. 14)")
            _money(penalties, "bills:TotalPayable", totals.penalties)
            child(penalties, "bills:PaymentInformationKey", payment_key)
        child(doc, "bills:Expose", True)
        _money(doc, "bills:TotalPayableByChargeInfo", totals.for_period)
        _money(doc, "bills:TotalPayableOverallByChargeInfo", totals.to_pay)
        if totals.opening > 0:
            _money(doc, "bills:DebtPreviousPeriods", totals.opening)
        elif totals.opening < 0:
            _money(doc, "bills:AdvanceBllingPeriod", -totals.opening)
        child(doc, "bills:PaymentsTaken", (period.end_day - timedelta(days=1)).day)
        _money(doc, "bills:TotalPayableByPDWithDebtAndAdvance", totals.to_pay)
        if totals.penalties:
            _money(doc, "bills:TotalByPenaltiesAndCourtCosts", totals.penalties)
        _money(doc, "bills:TotalPayableByPD", totals.for_period)
        if totals.paid:
            _money(doc, "bills:PaidCash", totals.paid)
        if totals.last_payment_on:
            child(doc, "bills:DateOfLastReceivedPayment", totals.last_payment_on)
        built.add_transport_guid(doc, "payment_document", f"{account_no}/{receipt.period}", new_guid)
        if known.payment_document_id:
            child(doc, "bills-base:PaymentDocumentID", known.payment_document_id)
        child(doc, "bills:PaymentInformationKey", payment_key)
    return built
