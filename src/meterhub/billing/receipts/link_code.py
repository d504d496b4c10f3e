"""The account-link code printed on the receipt (код привязки лицевого счёта к личному кабинету).

``code = HMAC-SHA256(secret, "meterhub-link:" + account_no + ":" + period)``: the first 40 bits as 8
characters of Crockford base32 (digits and capitals without I, L, O, U, so it reads aloud and types
without confusion), shown as ``XXXX-XXXX``. Each receipt carries the code of its own period (``YYYY-MM``;
a debt receipt the month before its date), so the code on paper changes every month. The code is derived, not
stored: the API recomputes it with the same secret (``Settings.secret_key``) to verify what a resident
types, accepts only recent periods' codes, and records a redemption so that a code — and every older one —
links an account once. Guessing is 1 in 2⁴⁰ per try (and the API rate-limits tries).
"""

from __future__ import annotations

import hashlib
import hmac
import re

__all__ = ["account_link_code", "normalize_link_code", "verify_account_link_code"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def account_link_code(account_no: str, secret: str, period: str) -> str:
    """The 8-character link code of ``account_no`` for the receipt of ``period`` (``YYYY-MM``) under
    ``secret``, formatted ``XXXX-XXXX``."""
    if not account_no:
        raise ValueError("account_no is empty; pass the account number printed on the receipt")
    if not secret:
        raise ValueError("the link-code secret is empty; set METERHUB_SECRET_KEY")
    if not _PERIOD.match(period):
        raise ValueError(f"period {period!r}: expected YYYY-MM")
    message = f"meterhub-link:{account_no}:{period}"
    mac = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    n = int.from_bytes(mac[:5], "big")
    chars = "".join(_ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(8)))
    return f"{chars[:4]}-{chars[4:]}"


def normalize_link_code(code: str) -> str:
    """Upper case without spaces and dashes; Crockford look-alikes O → 0, I/L → 1."""
    return "".join(ch for ch in code.upper() if ch not in " -\t").translate(_LOOK_ALIKES)


def verify_account_link_code(account_no: str, code: str, secret: str, period: str) -> bool:
    """Whether ``code`` (as typed: any case, with or without the dash) is ``account_no``'s code of
    ``period``."""
    expected = normalize_link_code(account_link_code(account_no, secret, period))
    return hmac.compare_digest(normalize_link_code(code).encode(), expected.encode())
