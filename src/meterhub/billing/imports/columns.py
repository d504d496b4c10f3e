"""Column parsers for import files: text in, typed value out, ``ValueError`` with the fix otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

__all__ = ["boolean", "choice", "day", "decimal", "integer", "text", "time_zone"]

_DATE_DOTTED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_TRUE = {"true", "1", "yes", "y", "да", "д"}
_FALSE = {"false", "0", "no", "n", "нет", "н"}


def text(value: str) -> str:
    return value


def decimal(value: str) -> Decimal:
    """A decimal number; ``52,17`` (Russian decimal comma) and spaces between thousands are accepted."""
    cleaned = value.replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number (e.g. 52.17 or 52,17)") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


def integer(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def boolean(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (use true/false, 1/0, yes/no or да/нет)")


def day(value: str) -> date:
    """A date as ``YYYY-MM-DD`` or ``DD.MM.YYYY``."""
    m = _DATE_DOTTED.match(value)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date (use YYYY-MM-DD or DD.MM.YYYY)") from None


def time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (KeyError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Moscow, Asia/Omsk)") from None
    return value


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        v = value.strip().lower()
        if v not in allowed:
            raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
        return v

    return parse
