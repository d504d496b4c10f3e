"""Durations in configuration files: ``"15m"``, ``"30s"``, ``"1h30m"``, ``"2d"`` or a number of seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"15m"`` → 15 minutes; a bare number is seconds. ValueError says what a duration looks like."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f'{value!r} is not a duration; write e.g. "15m", "30s" or 900')
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"duration {value} must not be negative")
        return timedelta(seconds=value)
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise ValueError('empty duration; write e.g. "15m", "30s" or 900')
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    pos, seconds = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text):
        raise ValueError(f'{value!r} is not a duration; write e.g. "15m", "30s", "1h30m" or 900 (seconds)')
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """15 minutes → ``"15m"``; used in log lines and docs."""
    total = delta.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total >= size and total % size == 0:
            return f"{int(total // size)}{unit}"
    return f"{total:g}s"
