"""Whether a receipt is paid (оплачена, оплачена частично, не оплачена): pure, amounts in kopecks.

A receipt asks ``to_pay`` — the closing balance of its period (older debt, the period's charges and
penalties, less what was paid during the period). What was paid *after* the period ended goes to that
amount first (billing allocates payments to the oldest debt), so the receipt is

- ``nothing_due`` when it asked nothing (0 or an overpayment),
- ``paid`` when the payments since its period cover ``to_pay``,
- ``partly_paid`` when they cover part of it,
- ``unpaid`` when nothing was paid since.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date

__all__ = ["STATE_NAMES", "paid_since", "payment_state"]

STATE_NAMES = {
    "nothing_due": "к оплате ничего",
    "paid": "оплачена",
    "partly_paid": "оплачена частично",
    "unpaid": "не оплачена",
}


def payment_state(to_pay_kopecks: int, paid_after_kopecks: int) -> str:
    if to_pay_kopecks <= 0:
        return "nothing_due"
    if paid_after_kopecks >= to_pay_kopecks:
        return "paid"
    return "partly_paid" if paid_after_kopecks > 0 else "unpaid"


def paid_since(payments: list[tuple[date, int]], first: date) -> int:
    """Σ kopecks of ``payments`` (paid_on, kopecks; sorted by day) made on ``first`` or later."""
    days = [d for d, _ in payments]
    return sum(k for _, k in payments[bisect_left(days, first) :])
