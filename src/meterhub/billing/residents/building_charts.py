"""Building charts for residents (графики по дому, as СТАРТ КС shows them): house-meter consumption by month,
per m² and per person, the common-property coefficient by month, this year against last year.

Pure: the loader gives, per service and month, the house (ОДПУ) volume, where it came from (the period
close's ``period_common_property.house_volume``, else the time series), the number of residents and the
close's common-property figures. Definitions (each a named rounding point, half-up):

* ``per_m2`` = ``V^Д / S_об`` [unit/m²], 4 decimals — house consumption per m² of all premises;
* ``per_person`` = ``V^Д / n`` [unit/person], 4 decimals — ``n`` = Σ registered + temporary residents
  on the month's last day; absent when ``n`` = 0;
* ``common_per_m2`` (коэффициент КРСОИ/ОДН) = ``V_СОИ / S_об`` [unit/m²], 6 decimals — the distributed
  common-property volume per m², i.e. what each premise's area is multiplied by (billing-rules.md §2.2:
  ``V_i = V_СОИ × S_i / S_об``);
* ``common_share`` = ``V_СОИ / V^Д`` × 100 [%], 2 decimals — the part of the house consumption billed
  as common property;
* ``change_percent`` = ``(this − last) / last × 100`` [%], 1 decimal, per month and for the year-to-date
  totals over the months both years have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from meterhub.billing.rules.rounding import engine_context

__all__ = ["ChartMonth", "MonthFigures", "ServiceChart", "build_service_chart"]

_Q4 = Decimal("0.0001")
_Q6 = Decimal("0.000001")
_Q2 = Decimal("0.01")
_Q1 = Decimal("0.1")


@dataclass(frozen=True)
class MonthFigures:
    """One month of one service of a building, as loaded."""

    month: int  # 1..12
    house_volume: Decimal | None  # V^Д [unit]; None: no house meter data
    source: str | None  # 'close' or 'telemetry'
    persons: int = 0
    common_distributed: Decimal | None = None  # V_СОИ distributed to premises [unit] (close)
    common_method: str | None = None


@dataclass(frozen=True)
class ChartMonth:
    month: int
    volume: Decimal | None
    source: str | None
    per_m2: Decimal | None
    per_person: Decimal | None
    persons: int
    common_per_m2: Decimal | None
    common_share: Decimal | None
    common_method: str | None
    previous_volume: Decimal | None
    previous_per_m2: Decimal | None
    previous_per_person: Decimal | None
    previous_common_per_m2: Decimal | None
    change_percent: Decimal | None


@dataclass(frozen=True)
class ServiceChart:
    service: str
    unit: str
    year: int
    months: tuple[ChartMonth, ...]
    total: Decimal | None  # Σ of this year's months with data
    previous_total: Decimal | None  # Σ of last year's same months (where both years have data)
    change_percent: Decimal | None


def _q(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def _ratio(
    num: Decimal | None, den: Decimal | int | None, quantum: Decimal, scale: int = 1
) -> Decimal | None:
    if num is None or den is None or den == 0:
        return None
    return _q(num * scale / Decimal(den), quantum)


def build_service_chart(
    service: str,
    unit: str,
    year: int,
    total_area: Decimal,
    this_year: Sequence[MonthFigures],
    last_year: Sequence[MonthFigures],
) -> ServiceChart:
    """The chart of one service: 12 months of ``year`` with last year's figures beside them."""
    if total_area <= 0:
        raise ValueError(f"building total area must be positive, got {total_area}")
    now: Mapping[int, MonthFigures] = {m.month: m for m in this_year}
    before: Mapping[int, MonthFigures] = {m.month: m for m in last_year}
    months = []
    total = previous_total = Decimal(0)
    any_total = any_previous = False
    with engine_context():
        for month in range(1, 13):
            cur = now.get(month) or MonthFigures(month, None, None)
            prev = before.get(month) or MonthFigures(month, None, None)
            volume = cur.house_volume
            if volume is not None:
                total += volume
                any_total = True
                if prev.house_volume is not None:
                    previous_total += prev.house_volume
                    any_previous = True
            change = None
            if volume is not None and prev.house_volume:
                change = _q((volume - prev.house_volume) * 100 / prev.house_volume, _Q1)
            months.append(
                ChartMonth(
                    month=month,
                    volume=volume,
                    source=cur.source,
                    per_m2=_ratio(volume, total_area, _Q4),
                    per_person=_ratio(volume, cur.persons, _Q4),
                    persons=cur.persons,
                    common_per_m2=_ratio(cur.common_distributed, total_area, _Q6),
                    common_share=_ratio(cur.common_distributed, volume, _Q2, 100),
                    common_method=cur.common_method,
                    previous_volume=prev.house_volume,
                    previous_per_m2=_ratio(prev.house_volume, total_area, _Q4),
                    previous_per_person=_ratio(prev.house_volume, prev.persons, _Q4),
                    previous_common_per_m2=_ratio(prev.common_distributed, total_area, _Q6),
                    change_percent=change,
                )
            )
        change_total = None
        if any_total and any_previous and previous_total:
            # year to date: only the months where both years have a house volume
            both = sum(
                (m.volume for m in months if m.volume is not None and m.previous_volume is not None),
                Decimal(0),
            )
            change_total = _q((both - previous_total) * 100 / previous_total, _Q1)
    return ServiceChart(
        service=service,
        unit=unit,
        year=year,
        months=tuple(months),
        total=total if any_total else None,
        previous_total=previous_total if any_previous else None,
        change_percent=change_total,
    )
