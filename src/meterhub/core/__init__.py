"""Types every stage shares. No I/O here."""

from meterhub.core.readings import (
    HourQuality,
    Reading,
    ReadingQuality,
    ReadingSource,
    make_meter_id,
)
from meterhub.core.registers import REGISTERS, MeterKind, RegisterSpec, Unit, register_spec
from meterhub.core.settings import Settings, get_settings

__all__ = [
    "REGISTERS",
    "HourQuality",
    "MeterKind",
    "Reading",
    "ReadingQuality",
    "ReadingSource",
    "RegisterSpec",
    "Settings",
    "Unit",
    "get_settings",
    "make_meter_id",
    "register_spec",
]
