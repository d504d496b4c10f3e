"""Account link codes (код привязки лицевого счёта): which receipts' codes are alive, and redeeming one.

The code is :func:`meterhub.billing.receipts.link_code.account_link_code` of the account and the
receipt's period, so each month's receipt carries a new code. A code is accepted when

- its period is the current month or one of the ``link_code_valid_months`` before it (it expires);
- no code of that period or a later one was redeemed for the account (one-time, and redeeming rotates:
  the next receipt's code is the next valid one, older paper codes are dead);
- staff did not revoke the account's codes up to that period.

Redeeming tells the account's other users (a notification) so that an owner learns who linked the flat.
"""

from __future__ import annotations

import hmac
from datetime import date

import psycopg

from meterhub.billing.receipts.link_code import account_link_code, normalize_link_code

__all__ = ["CodeState", "account_link_code", "code_state", "match_period", "recent_periods"]


class CodeState:
    VALID = "valid"
    USED = "used"
    REVOKED = "revoked"


def recent_periods(today: date, valid_months: int) -> list[str]:
    """The current month and the ``valid_months`` before it, newest first (``YYYY-MM``)."""
    index = today.year * 12 + today.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index, index - valid_months - 1, -1)]


def match_period(account_no: str, code: str, secret: str, periods: list[str]) -> str | None:
    """The period whose code ``code`` is (any case, dashes and look-alikes tolerated), else None.

    Every candidate is compared in constant time, so timing does not tell which period is close.
    """
    given = normalize_link_code(code).encode()
    found = None
    for period in periods:
        expected = normalize_link_code(account_link_code(account_no, secret, period)).encode()
        if hmac.compare_digest(given, expected) and found is None:
            found = period
    return found


def code_state(conn: psycopg.Connection, account_no: str, period: str) -> str:
    """Whether the code of ``period`` may still link ``account_no``."""
    used, revoked = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM api_link_code_redemptions "
        "               WHERE account_no = %(a)s AND period >= %(p)s), "
        "EXISTS (SELECT 1 FROM api_link_code_revocations WHERE account_no = %(a)s AND up_to_period >= %(p)s)",
        {"a": account_no, "p": period},
    ).fetchone()
    if used:
        return CodeState.USED
    if revoked:
        return CodeState.REVOKED
    return CodeState.VALID
