"""True-up of averaged volumes against actual readings (перерасчёт по п. 61 ПП 354) — pure arithmetic.

When a meter billed by the monthly average (п. 59) for one or more consecutive closed periods has a
valid reading again, the consumption actually measured over the averaged run is compared with the
averaged volumes charged, and the difference is booked as recalculation lines in the period the reading
is received (billing-rules.md §1.5: "the averaged volumes are trued-up against actual readings in the
period the readings are received (п. 61)" [M]).

Interpretation (billing-rules.md tags):

* actual consumption over the run, per zone = register value at the end of the run − register value
  of the last valid reading before the run [M]. The pure functions take the end of the run either as
  the reading now available less the current period's own volume (``current_period``) or directly.
  The loader (:mod:`meterhub.billing.close.loader`) ends the run at the start of the current period's
  readings window: with a reading there, that reading; without one (the usual case: nothing was read
  during the run), the register value there interpolated linearly in time between the last valid
  reading and the reading now available [I] — so the current period is billed by meter on its own
  share of the span and the rest trues-up the averaged periods;
* true-up volume per zone = actual − Σ averaged volumes charged (positive = доначисление, negative =
  уменьшение) [M];
* the true-up volume of a zone is spread over the averaged periods in proportion to the averaged volume
  each period was charged in that zone (equal shares when those are all zero), each share quantised to
  :data:`VOLUME_QUANTUM` and the remainder put on the last period, so the shares sum exactly to the
  true-up volume [I]; each share is priced at the tariff of the period it corrects ("at the tariffs of
  the averaged periods"; with a tariff change inside that month, its volume-weighted price) [I];
* when the averaged zones differ from the register zones (e.g. averages were computed as ``SINGLE``
  because the history mixed meter types, or a total register was split into zones by the hourly
  estimate), both sides are compared as totals in ``Zone.SINGLE``, priced at the period's
  volume-weighted price of its zones [I].

Every amount is ``round_money(volume × price)`` per line (half-up, one rounding point per line).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context, round_money, to_decimal
from meterhub.billing.rules.zones import Zone

__all__ = [
    "VOLUME_QUANTUM",
    "AveragedCharge",
    "TrueUpError",
    "TrueUpLine",
    "actual_run_consumption",
    "spread_true_up",
    "true_up_lines",
    "true_up_volumes",
]

VOLUME_QUANTUM = Decimal("0.000001")
"""Volumes are kept to micro-units (the time-series storage unit)."""

REASON = "перерасчёт среднемесячного объёма по фактическим показаниям (ПП 354, п. 61)"


class TrueUpError(ValueError):
    """The inputs do not give a true-up; the message names what is wrong and how to fix it."""


@dataclass(frozen=True)
class AveragedCharge:
    """One closed period billed by the average: the volumes charged [unit] and the price [₽/unit] per zone."""

    period: BillingPeriod
    zone_volumes: Mapping[Zone, Decimal]
    prices: Mapping[Zone, Decimal]


@dataclass(frozen=True)
class TrueUpLine:
    """One itemised true-up line: ``volume`` [unit] of ``zone`` correcting ``corrects_period``, booked in
    ``period`` at ``price`` [₽/unit]; ``amount`` = round_money(``amount_exact``)."""

    period: BillingPeriod
    corrects_period: BillingPeriod
    zone: Zone
    volume: Decimal
    price: Decimal
    amount_exact: Decimal
    amount: Decimal
    reason: str


def _dec(values: Mapping[Zone, Decimal], what: str) -> dict[Zone, Decimal]:
    return {Zone(z): to_decimal(v, f"{what} {z}") for z, v in values.items()}


def _single(values: Mapping[Zone, Decimal]) -> dict[Zone, Decimal]:
    return {Zone.SINGLE: sum(values.values(), Decimal(0))}


def actual_run_consumption(
    last_valid: Mapping[Zone, Decimal],
    now: Mapping[Zone, Decimal],
    current_period: Mapping[Zone, Decimal] | None = None,
) -> dict[Zone, Decimal]:
    """Consumption [unit] per zone over the averaged run: ``now − last_valid − current_period``.

    ``last_valid``/``now``: register consumption values per zone already in units (multiplier applied,
    rollover resolved by the caller); ``current_period``: the current period's own volume when computed
    separately, else ``None``. A negative result means inconsistent readings and raises.
    """
    with engine_context():
        start, end = _dec(last_valid, "last valid register"), _dec(now, "current register")
        if set(start) != set(end):
            raise TrueUpError(
                f"registers differ between the last valid reading ({', '.join(sorted(start))}) and the "
                f"current one ({', '.join(sorted(end))}); a replaced meter needs its replacement act"
            )
        current = _dec(current_period or {}, "current period volume")
        if current and set(current) != set(end):
            start, end, current = _single(start), _single(end), _single(current)
        result = {z: end[z] - start[z] - current.get(z, Decimal(0)) for z in end}
        negative = sorted(z for z, v in result.items() if v < 0)
        if negative:
            raise TrueUpError(
                f"actual consumption over the averaged periods is negative in zone(s) {', '.join(negative)}: "
                "the current reading is below the last valid one less this period's volume; "
                "check the readings or record the rollover/replacement"
            )
        return result


def true_up_volumes(
    actual: Mapping[Zone, Decimal], averaged: Sequence[Mapping[Zone, Decimal]]
) -> dict[Zone, Decimal]:
    """True-up volume [unit] per zone = actual consumption − Σ averaged volumes charged."""
    if not averaged:
        raise TrueUpError("no averaged periods to true up")
    with engine_context():
        act = _dec(actual, "actual consumption")
        avgs = [_dec(a, "averaged volume") for a in averaged]
        if any(set(a) != set(act) for a in avgs):
            act, avgs = _single(act), [_single(a) for a in avgs]
        return {z: act[z] - sum((a[z] for a in avgs), Decimal(0)) for z in act}


def spread_true_up(volume: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``volume`` over periods in proportion to ``weights`` (equal when Σ weights is 0), each share
    quantised to :data:`VOLUME_QUANTUM`, the remainder on the last share: Σ shares == ``volume`` exactly."""
    if not weights:
        raise TrueUpError("no periods to spread the true-up over")
    with engine_context():
        volume = to_decimal(volume, "true-up volume")
        ws = [to_decimal(w, "weight") for w in weights]
        if any(w < 0 for w in ws):
            raise TrueUpError("averaged volumes must not be negative")
        total = sum(ws, Decimal(0))
        if total == 0:
            ws, total = [Decimal(1)] * len(ws), Decimal(len(ws))
        shares = [(volume * w / total).quantize(VOLUME_QUANTUM, ROUND_HALF_EVEN) for w in ws[:-1]]
        shares.append(volume - sum(shares, Decimal(0)))
        return shares


def _price(charge: AveragedCharge, zone: Zone) -> Decimal:
    """The zone's price; for a total compared across zones (``SINGLE`` against zoned averages) the
    volume-weighted price of the period's averaged zones [I]."""
    prices = charge.prices
    if zone in prices:
        return to_decimal(prices[zone], f"{charge.period} price {zone}")
    if not prices:
        raise TrueUpError(f"{charge.period}: no price for the true-up volume")
    if len(set(prices.values())) == 1:
        return to_decimal(next(iter(prices.values())), f"{charge.period} price")
    weight = sum((charge.zone_volumes.get(z, Decimal(0)) for z in prices), Decimal(0))
    if weight == 0:
        raise TrueUpError(f"{charge.period}: zoned prices without averaged volumes to weigh them")
    return sum((charge.zone_volumes.get(z, Decimal(0)) * p for z, p in prices.items()), Decimal(0)) / weight


def true_up_lines(
    actual: Mapping[Zone, Decimal],
    averaged: Sequence[AveragedCharge],
    *,
    in_period: BillingPeriod,
    reason: str = REASON,
) -> list[TrueUpLine]:
    """The itemised true-up lines booked in ``in_period`` for the averaged periods ``averaged``.

    Lines with a zero volume are omitted. ``in_period`` must be later than every averaged period.
    """
    if not averaged:
        return []
    late = [a.period for a in averaged if a.period >= in_period]
    if late:
        raise TrueUpError(f"a true-up of {late[0]} must be booked in a later period, not {in_period}")
    periods = [a.period for a in averaged]
    if len(set(periods)) != len(periods):
        raise TrueUpError("an averaged period is given twice")
    ordered = sorted(averaged, key=lambda a: a.period)
    volumes = true_up_volumes(actual, [a.zone_volumes for a in ordered])
    single = set(volumes) == {Zone.SINGLE} and any(set(a.zone_volumes) != {Zone.SINGLE} for a in ordered)
    lines: list[TrueUpLine] = []
    with engine_context():
        for zone in sorted(volumes):
            if volumes[zone] == 0:
                continue
            if single:
                weights = [sum(a.zone_volumes.values(), Decimal(0)) for a in ordered]
            else:
                weights = [a.zone_volumes[zone] for a in ordered]
            for charge, share in zip(ordered, spread_true_up(volumes[zone], weights), strict=True):
                if share == 0:
                    continue
                price = _price(charge, zone)
                exact = share * price
                lines.append(
                    TrueUpLine(
                        in_period, charge.period, zone, share, price, exact, round_money(exact), reason
                    )
                )
    return lines
