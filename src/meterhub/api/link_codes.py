"""The one-time account link code printed on the receipt (код привязки лицевого счёта).

``code = HMAC-SHA256(secret_key, "meterhub-link:" + account_no)`` → first 40 bits → 8 characters of
Crockford base32 (no I, L, O, U), shown as ``XXXX-XXXX``. Uses :func:`meterhub.billing.receipts.link_code.
account_link_code` when the receipts package provides it (same algorithm), so the API accepts
exactly what is printed.
A code is redeemed once (``api_link_code_redemptions``).
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["account_link_code", "codes_equal", "normalize_code"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _own_account_link_code(account_no: str, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"meterhub-link:{account_no}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(mac[:5], "big")
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"{chars[:4]}-{chars[4:]}"


def account_link_code(account_no: str, secret: str) -> str:
    """The code printed on the receipt: the receipts package's function when installed."""
    try:
        from meterhub.billing.receipts.link_code import account_link_code as receipts_code
    except ImportError:
        return _own_account_link_code(account_no, secret)
    return receipts_code(account_no, secret)


def normalize_code(code: str) -> str:
    """Upper case without spaces and dashes; Crockford look-alikes O→0, I/L→1."""
    cleaned = "".join(ch for ch in code.upper() if ch not in " -\t")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def codes_equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(normalize_code(given).encode(), normalize_code(expected).encode())
