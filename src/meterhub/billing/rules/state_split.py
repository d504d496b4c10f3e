"""A period split by the individual meter's state changing inside it (ПП 354 п. 59 «а», п. 81).

When a meter fails, is lost or its verification interval expires, the average applies **from the date
of the event** (п. 59 «а»); when a compliant meter is commissioned, its readings count from the
commissioning act. A month with such an event is therefore billed in parts (:class:`~.volumes.StatePart`):

* a working part (``VALID``) by the meter: the register delta from the part's start to the reading at
  its end (the act's reading at the event) or the part's hours of the hourly series (formula 1, per
  zone for a multi-rate meter);
* any other part by what the whole month would get in that state (the average per zone over the last
  ≤ 6 metered months, or the normative, with ×1.5 where it applies, after the limit — §1.7) pro rata by
  days: ``V_part = V_month × d_part / D`` [unit], ``D`` the days of the period.

The result is one :class:`~.volumes.IndividualVolume` per service whose ``parts`` carry each part's own
volume, method, formula (with the arithmetic of the split) and coefficient; the charge prices each part
over its own days (tariff parts clipped to it), so every part is its own itemised line. The month's
method is the method of its **last** part [I] (as the close's averaging history reads it from the
charge lines): a month that ends failed is an averaged period (the first of the п. 59 limit); a month
that ends working ends the run and is a metered month of the averaging history, with its whole volume
(the metered days plus the averaged days).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.volumes import (
    IndividualVolume,
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    VolumeDecisionError,
    VolumePart,
    VolumeRules,
    decide_individual_volume,
)
from meterhub.billing.rules.zones import Zone

__all__ = ["SPLIT_FORMULA", "split_by_meter_state"]

SPLIT_FORMULA = "ПП 354, п. 59 «а»: период разделён по дате события с ИПУ"
"""The formula of a month whose volume is the Σ of its state parts."""


def _days_text(start: date, end: date) -> str:
    last = end - timedelta(days=1)
    return f"{start:%d.%m}–{last:%d.%m}"


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")


def split_by_meter_state(
    consumer: ServiceConsumer,
    *,
    account: str,
    residential: bool,
    residents: int | Decimal,
    owners: int,
    rules: VolumeRules,
) -> IndividualVolume:
    """The individual volume [unit] of a period whose meter changed state inside it (``meter.parts``).

    Each ``VALID`` part is metered; each other part takes the volume the whole period would get in its
    state (:func:`~.volumes.decide_individual_volume` with the meter's history and averaging count) ×
    ``d_part / D``. Raises :class:`~.volumes.VolumeDecisionError` when the parts do not cover the period
    contiguously or a working part has no metered volume.
    """
    meter = consumer.meter
    assert meter is not None and meter.parts
    parts = meter.parts
    for before, after in pairwise(parts):
        if before.end != after.start:
            raise VolumeDecisionError(
                f"account {account}, {consumer.service}: meter state parts {before.start}..{before.end} and "
                f"{after.start}..{after.end} are not contiguous; pass parts that cover the period"
            )
    if any(p.days <= 0 for p in parts):
        raise VolumeDecisionError(
            f"account {account}, {consumer.service}: an empty meter state part; drop it or fix its dates"
        )
    period_days = (parts[-1].end - parts[0].start).days
    decided: list[VolumePart] = []
    for part in parts:
        days = _days_text(part.start, part.end)
        if part.status is MeterStatus.VALID:
            if part.zone_volumes is None and part.hourly is None:
                raise VolumeDecisionError(
                    f"account {account}, {consumer.service}: the meter works {days} but no volume was given "
                    "for those days; pass the readings at the part's ends or its hourly series"
                )
            metered = decide_individual_volume(
                replace(consumer, meter=MeterPeriod(MeterStatus.VALID, part.zone_volumes, part.hourly)),
                account=account,
                residential=residential,
                residents=residents,
                owners=owners,
                rules=rules,
            )
            source = f" ({part.source})" if part.source else ""
            volume = replace(
                metered,
                formula=f"{metered.formula}: по ИПУ {days}{source}",
                note=f"metered {days}{source}",
            )
        else:
            whole = decide_individual_volume(
                replace(
                    consumer,
                    meter=MeterPeriod(
                        part.status,
                        history=meter.history,
                        consecutive_average_periods=meter.consecutive_average_periods,
                        being_replaced=part.being_replaced,
                    ),
                ),
                account=account,
                residential=residential,
                residents=residents,
                owners=owners,
                rules=rules,
            )
            with engine_context():
                zones = {z: v * part.days / period_days for z, v in whole.zone_volumes.items()}
                month = ", ".join(f"{z} {_number(v)}" for z, v in whole.zone_volumes.items())
            volume = replace(
                whole,
                zone_volumes=zones,
                formula=f"{whole.formula}: {days}, {month} × {part.days}/{period_days} дн.",
                note=(whole.note + "; " if whole.note else "") + f"{part.status} {days}: pro rata by days",
            )
        decided.append(VolumePart(part.start, part.end, volume))
    with engine_context():
        total: dict[Zone, Decimal] = {}
        for p in decided:
            for z, v in p.volume.zone_volumes.items():
                total[z] = total.get(z, Decimal(0)) + v
    last = decided[-1].volume
    return IndividualVolume(
        consumer.service,
        last.method,
        SPLIT_FORMULA,
        total,
        coefficient=last.coefficient,
        persons=last.persons,
        normative=last.normative,
        average_months=last.average_months,
        note="; ".join(f"{_days_text(p.start, p.end)} {p.volume.method}" for p in decided),
        parts=tuple(decided),
    )
