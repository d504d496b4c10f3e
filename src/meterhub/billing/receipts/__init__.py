"""ЕПД receipts (единый платёжный документ): model, database loader, PDF, batches, account-link codes.

Public interface (notes/api-contract.md, "Receipts"): :func:`render_receipt_pdf`,
:func:`render_debt_receipt_pdf`, :func:`list_receipts`, plus :func:`account_link_code` for the cabinet,
:func:`render_receipts_pdf` for a range of periods and :func:`generate_batch` for a building or a period.
The payment QR payload (ГОСТ Р 56042-2014) printed on it is :mod:`meterhub.billing.money.payment_qr`.
Pure layout (:mod:`.model`, :mod:`.rows`, :mod:`.labels`, :mod:`.pdf`, :mod:`.drawing`) is kept apart
from the database reads (:mod:`.loader`, :mod:`.balances`, :mod:`.documents`, :mod:`.batch`).
See docs/receipts.md.
"""

from meterhub.billing.receipts.batch import BatchProgress, BatchResult, generate_batch
from meterhub.billing.receipts.documents import (
    ReceiptSummary,
    list_receipts,
    load_debt_receipt,
    render_debt_receipt_pdf,
    render_receipt_pdf,
    render_receipts_pdf,
)
from meterhub.billing.receipts.link_code import (
    account_link_code,
    normalize_link_code,
    verify_account_link_code,
)
from meterhub.billing.receipts.loader import iter_receipts, load_receipt, set_state_ids_source
from meterhub.billing.receipts.model import (
    ChargeRow,
    DebtLine,
    DebtReceipt,
    Instalment,
    MeterReading,
    Payer,
    Provider,
    RecalculationRow,
    Receipt,
    ReceiptDataError,
    ServiceReference,
    StateIds,
    Totals,
    payee_problems,
    validate_payee,
)
from meterhub.billing.receipts.pdf import write_debt_receipt, write_receipts

__all__ = [
    "BatchProgress",
    "BatchResult",
    "ChargeRow",
    "DebtLine",
    "DebtReceipt",
    "Instalment",
    "MeterReading",
    "Payer",
    "Provider",
    "RecalculationRow",
    "Receipt",
    "ReceiptDataError",
    "ReceiptSummary",
    "ServiceReference",
    "StateIds",
    "Totals",
    "account_link_code",
    "generate_batch",
    "iter_receipts",
    "list_receipts",
    "load_debt_receipt",
    "load_receipt",
    "normalize_link_code",
    "payee_problems",
    "render_debt_receipt_pdf",
    "render_receipt_pdf",
    "render_receipts_pdf",
    "set_state_ids_source",
    "validate_payee",
    "verify_account_link_code",
    "write_debt_receipt",
    "write_receipts",
]
