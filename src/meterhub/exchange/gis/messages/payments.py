"""importSupplierNotificationsOfOrderExecution (payment): payments the УК received (извещения о принятии
к исполнению распоряжений), each tied to the payment document (or the ИЖКУ) it pays."""

from __future__ import annotations

from decimal import Decimal

from meterhub.exchange.gis.model import BuiltMessage, GuidFactory, PaymentData, new_message
from meterhub.exchange.gis.xml import child, money_text

__all__ = ["MAX_PAYMENTS", "VERSION", "build_payment_notifications"]

VERSION = "10.0.1.1"
MAX_PAYMENTS = 250


def build_payment_notifications(payments: list[PaymentData], new_guid: GuidFactory) -> BuiltMessage:
    """``importSupplierNotificationsOfOrderExecutionRequest``; a payment needs the payment document
    identifier of its period (or the account's ИЖКУ) that ГИС ЖКХ returned, else it is skipped."""
    built = new_message(
        "importSupplierNotificationsOfOrderExecution",
        "pay:importSupplierNotificationsOfOrderExecutionRequest",
        VERSION,
        len(payments),
        MAX_PAYMENTS,
        "payments",
    )
    body = built.body
    for payment in payments:
        if not (payment.payment_document_id or payment.izhku):
            built.skipped.append(
                f"payment {payment.source}/{payment.payment_id} of account {payment.account_no}: neither a "
                f"payment document identifier nor an ИЖКУ from ГИС ЖКХ"
            )
            continue
        node = child(body, "pay:SupplierNotificationOfOrderExecution")
        child(node, "pay:OrderDate", payment.paid_on)
        if payment.period_named:
            year, month = payment.period_named.split("-")
            period = child(node, "pay:OrderPeriod")
            child(period, "base:Month", int(month))
            child(period, "base:Year", int(year))
        if payment.payment_document_id:
            child(node, "bills-base:PaymentDocumentID", payment.payment_document_id)
        else:
            child(node, "account-base:ServiceID", payment.izhku)
        child(node, "pay:Amount", money_text(payment.amount if payment.amount > 0 else Decimal("0")))
        built.add_transport_guid(node, "payment", f"{payment.source}/{payment.payment_id}", new_guid)
    return built
