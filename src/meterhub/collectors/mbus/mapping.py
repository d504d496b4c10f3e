"""Decoded telegrams + an M-Bus profile → ``Reading`` list (pure; the clock is passed in).

Quality (``ReadingQuality``) comes from the EN 13757-3 status byte (table 9) and from the
record itself:

* permanent error (status bit 3) → BAD;
* application busy / any application error / abnormal situation (bits 0-1), temporary
  error (bit 4) → UNCERTAIN; power low (bit 2) alone → GOOD;
* record error VIFE "no data", "overflow", "underflow", "data error", "premature end"
  (table 16, 0x15-0x18, 0x1C) → BAD; any other record error code → UNCERTAIN;
* DIF function field "value during error state" → UNCERTAIN;
* a record of a **damaged telegram** (its record structure broke part-way: premature end of a
  DIF/VIF/data field, more than 10 DIFEs/VIFEs, a reserved LVAR or special DIF) → BAD, whatever
  else it says. The records before the break may look fine, but a byte that went wrong earlier can
  shift every field after it, so none of them is trusted as a good value. BAD readings are kept
  and published (dashboards, dead-letter style inspection) but never used for volumes or billing;
  the poll's ``problems`` say which telegram broke where.

The worst of status and record quality wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from meterhub.collectors.mbus.profile import MbusProfile, MbusRecord
from meterhub.collectors.mbus.records import DataRecord, Function
from meterhub.collectors.mbus.telegram import Status, Telegram
from meterhub.collectors.mbus.units import UnitError, convert
from meterhub.collectors.mbus.vif_tables import VALUE_INVALID_ERRORS
from meterhub.core.readings import Reading, ReadingQuality, make_meter_id
from meterhub.core.registers import REGISTERS


@dataclass
class Mapped:
    """Readings of one read-out and what could not be mapped (register → reason)."""

    meter_id: str | None
    readings: list[Reading] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def status_quality(status: Status) -> ReadingQuality:
    if status.permanent_error:
        return ReadingQuality.BAD
    if status.application_bits or status.temporary_error:
        return ReadingQuality.UNCERTAIN
    return ReadingQuality.GOOD


def record_quality(record: DataRecord) -> ReadingQuality:
    if record.error_code is not None and record.error_code != 0:
        return ReadingQuality.BAD if record.error_code in VALUE_INVALID_ERRORS else ReadingQuality.UNCERTAIN
    if record.function is Function.ERROR_STATE:
        return ReadingQuality.UNCERTAIN
    return ReadingQuality.GOOD


def select_record(records: Sequence[DataRecord], spec: MbusRecord) -> DataRecord | None:
    """The first record matching the spec's quantity, storage, tariff, subunit, function, VIFEs."""
    for record in records:
        if (
            record.quantity == spec.quantity
            and record.storage == spec.storage
            and record.tariff == spec.tariff
            and record.subunit == spec.subunit
            and record.function == spec.function
            and list(record.vife) == spec.vife
            and (spec.unit_text is None or record.unit == spec.unit_text)
        ):
            return record
    return None


def map_readings(
    telegrams: Sequence[Telegram],
    profile: MbusProfile,
    ts: datetime,
    identification: str | None = None,
    manufacturer: str | None = None,
) -> Mapped:
    """Apply ``profile`` to the telegrams of one read-out; ``ts`` is the UTC time of the read.

    ``identification``/``manufacturer`` stand in for a short header (CI 0x7A) that lacks them;
    a fixed data structure (CI 0x73/0x77) carries no manufacturer, so the profile's first
    manufacturer code names the meter then.
    """
    header = next((t.header for t in telegrams if t.header is not None), None)
    ident = (header.identification if header else None) or identification
    man = (header.manufacturer if header else None) or manufacturer
    if not man and any(t.fixed is not None for t in telegrams) and profile.mbus.manufacturers:
        man = profile.mbus.manufacturers[0]
    if not ident or not man:
        return Mapped(None, problems=["telegram has no identification number/manufacturer (short header?)"])
    meter_id = make_meter_id(man, ident)
    result = Mapped(meter_id)
    if header is not None and not profile.accepts(man, header.medium):
        result.problems.append(
            f"profile {profile.id!r} does not accept manufacturer {man} "
            f"medium 0x{header.medium or 0:02X} ({header.medium_name})"
        )
        return result
    base = status_quality(header.status) if header else ReadingQuality.GOOD
    records = [r for t in telegrams for r in t.data_records]
    damaged = {id(r) for t in telegrams if t.damaged for r in t.data_records}
    for n, telegram in enumerate(telegrams, 1):
        if telegram.damaged:
            result.problems.append(
                f"telegram {n} of {len(telegrams)} is damaged ({telegram.damaged}): "
                "its readings are marked BAD and kept out of billing"
            )
    for spec in profile.records:
        record = select_record(records, spec)
        if record is None:
            result.problems.append(
                f"register {spec.name}: no {spec.quantity} record with storage {spec.storage}, "
                f"tariff {spec.tariff}, subunit {spec.subunit}, {spec.function.value}"
            )
            continue
        if not isinstance(record.value, Decimal | int) or isinstance(record.value, bool):
            result.problems.append(f"register {spec.name}: record at offset {record.offset} is not a number")
            continue
        target = REGISTERS[spec.name].unit.value
        unit = (spec.unit_text and target) or record.unit
        try:
            value = convert(Decimal(record.value), unit, target, record.quantity)
        except UnitError as exc:
            result.problems.append(f"register {spec.name}: {exc} (record at offset {record.offset})")
            continue
        quality = max(base, record_quality(record))
        if id(record) in damaged:
            quality = ReadingQuality.BAD
        number = float(value) * spec.scale + spec.offset
        result.readings.append(Reading(meter_id, spec.name, ts, number, target, ReadingQuality(quality)))
    return result


def choose_profile(
    profiles: Sequence[object], manufacturer: str | None, medium: int | None
) -> MbusProfile | None:
    """The first M-Bus profile that accepts this manufacturer and medium (shipped profiles are
    sorted by id), or None."""
    for profile in profiles:
        if (
            isinstance(profile, MbusProfile)
            and profile.mbus.manufacturers
            and profile.accepts(manufacturer, medium)
        ):
            return profile
    return None
