"""Recalculation lines (перерасчёт) for a closed period, booked in a later open period.

A closed period is immutable (ARCHITECTURE.md contract 4; billing-rules.md §7.1 [I]): when its inputs
change later (late readings, a corrected meter, an ОДПУ correction), the close recomputes the closed
period with the engine and books the *difference* in the current open period, referencing the period it
corrects (ЕПД раздел 5: основание, сумма).

The difference is taken between **rounded** line amounts, so the closed receipt plus its recalculation
equals the receipt that the corrected inputs would have produced, to the kopeck [I].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from meterhub.billing.rules.charges import ChargeKind, ChargeLine
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.rounding import engine_context
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.zones import Zone

__all__ = ["RecalculationLine", "recalculation_lines"]

LineKey = tuple[str, Service, ChargeKind, Zone, date]


@dataclass(frozen=True)
class RecalculationLine:
    """One correction of a closed period's line, booked in ``period``.

    ``amount`` [₽] = corrected rounded amount − closed rounded amount (positive = доначисление,
    negative = уменьшение); ``volume_delta`` [unit] likewise; ``amount_exact_delta`` [₽] is the
    difference of the unrounded amounts, for reference.
    """

    account: str
    period: BillingPeriod
    corrects_period: BillingPeriod
    service: Service
    kind: ChargeKind
    zone: Zone
    part_start: date
    volume_delta: Decimal
    amount_exact_delta: Decimal
    amount: Decimal
    method_before: str | None
    method_after: str | None
    reason: str
    source: str = "recheck"
    """``recheck`` (a closed period recomputed from changed inputs) or ``true_up`` (п. 61 ПП 354, see
    :mod:`meterhub.billing.rules.true_up`)."""


def _key(line: ChargeLine) -> LineKey:
    return (line.account, line.service, line.kind, line.zone, line.part_start)


def _index(lines: Sequence[ChargeLine], what: str, period: BillingPeriod) -> dict[LineKey, ChargeLine]:
    index: dict[LineKey, ChargeLine] = {}
    for line in lines:
        if line.period != period:
            raise ValueError(f"{what} line of account {line.account} belongs to {line.period}, not {period}")
        key = _key(line)
        if key in index:
            raise ValueError(
                f"{what} lines have two {line.service} {line.kind} {line.zone} lines for account "
                f"{line.account} from {line.part_start}; pass one period's lines as the engine produced them"
            )
        index[key] = line
    return index


def recalculation_lines(
    closed: Sequence[ChargeLine],
    corrected: Sequence[ChargeLine],
    *,
    in_period: BillingPeriod,
    reason: str,
) -> list[RecalculationLine]:
    """The corrections that turn a closed period's lines into the corrected ones, booked in ``in_period``.

    ``closed``: the lines stored when the period was closed; ``corrected``: the engine's lines for the
    same period recomputed from corrected inputs. Lines are matched by account, service, kind, zone and
    tariff part; a line present on one side only is corrected against zero. Unchanged lines produce
    nothing. ``in_period`` must be later than the corrected period.
    """
    periods = {line.period for line in (*closed, *corrected)}
    if not periods:
        return []
    if len(periods) > 1:
        raise ValueError(
            f"lines of several periods given ({', '.join(sorted(map(str, periods)))}); pass one period"
        )
    corrects = periods.pop()
    if in_period <= corrects:
        raise ValueError(f"a correction of {corrects} must be booked in a later open period, not {in_period}")
    before = _index(closed, "closed", corrects)
    after = _index(corrected, "corrected", corrects)
    result: list[RecalculationLine] = []
    with engine_context():
        for key in sorted(before.keys() | after.keys(), key=lambda k: (k[0], k[1], k[2], k[4], k[3])):
            old, new = before.get(key), after.get(key)
            delta_amount = (new.amount if new else Decimal(0)) - (old.amount if old else Decimal(0))
            delta_volume = (new.volume if new else Decimal(0)) - (old.volume if old else Decimal(0))
            if delta_amount == 0 and delta_volume == 0:
                continue
            delta_exact = (new.amount_exact if new else Decimal(0)) - (
                old.amount_exact if old else Decimal(0)
            )
            account, service, kind, zone, part_start = key
            result.append(
                RecalculationLine(
                    account=account,
                    period=in_period,
                    corrects_period=corrects,
                    service=service,
                    kind=kind,
                    zone=zone,
                    part_start=part_start,
                    volume_delta=delta_volume,
                    amount_exact_delta=delta_exact,
                    amount=delta_amount,
                    method_before=old.method if old else None,
                    method_after=new.method if new else None,
                    reason=reason,
                )
            )
    return result
