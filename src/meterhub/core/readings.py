"""The ``Reading`` every stage passes along, and the quality flags of readings and hours."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum


class ReadingQuality(IntEnum):
    """Quality the device (or gateway) attached to a raw reading. Stored as smallint."""

    GOOD = 0
    UNCERTAIN = 1  # value present, but the device reported an error status
    BAD = 2  # the device said the value is not valid; kept, never used for volumes


class ReadingSource(IntEnum):
    """Where a reading came from. Stored as smallint."""

    GATEWAY = 0
    MANUAL = 1  # submitted by a resident or an engineer
    IMPORT = 2  # loaded from a file
    ESTIMATE = 3  # a value computed by meterhub (e.g. a replacement's closing reading)


# Contract names → stored codes; ``None`` (the name left out) is the default, good / gateway.
QUALITY_CODE: dict[str | None, int] = {None: 0, **{q.name.lower(): int(q) for q in ReadingQuality}}
SOURCE_CODE: dict[str | None, int] = {None: 0, **{s.name.lower(): int(s) for s in ReadingSource}}


class HourQuality(IntEnum):
    """Quality of one hour of interval consumption (VEE result). Stored as smallint.

    * ``MEASURED`` — the hour is covered by reads at the meter's normal cadence;
    * ``INTERPOLATED`` — the hour lies in a gap between two valid reads (linear split);
    * ``ESTIMATED`` — the gap is longer than the interpolation limit: the total is known,
      its shape across the hours is a guess;
    * ``SUSPECT`` — derived from readings that failed validation (counter went backwards,
      impossible jump); visible to engineers, excluded from billing volumes.
    """

    MEASURED = 0
    INTERPOLATED = 1
    ESTIMATED = 2
    SUSPECT = 3


_METER_ID_RE = re.compile(r"[^A-Za-z0-9]+")


def make_meter_id(manufacturer: str, serial: str) -> str:
    """A stable meter id from manufacturer and serial: ``"EAS-00123456"``.

    Manufacturer codes are upper-cased, both parts are stripped of separators.
    """
    man = _METER_ID_RE.sub("", manufacturer).upper()
    ser = _METER_ID_RE.sub("", serial)
    if not man or not ser:
        raise ValueError(f"meter id needs a manufacturer and a serial, got {manufacturer!r}/{serial!r}")
    return f"{man}-{ser}"


@dataclass(frozen=True, slots=True)
class Reading:
    """One raw register value as the meter reported it.

    ``value`` is the cumulative counter (or the momentary value of an instantaneous
    register) in ``unit``; ``ts`` is the meter's or gateway's time, timezone-aware UTC.
    """

    meter_id: str
    register: str
    ts: datetime
    value: float
    unit: str = ""
    quality: ReadingQuality = ReadingQuality.GOOD
    source: ReadingSource = ReadingSource.GATEWAY
