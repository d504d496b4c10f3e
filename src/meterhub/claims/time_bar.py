"""Limitation (исковая давность) of a period's charge — pure.

ГК РФ ст. 196 п. 1: three years. ст. 200 п. 1 and Пленум ВС РФ от 29.09.2015 № 43 п. 24: for periodic
payments the term runs for each payment separately, from the day after its due date (ЖК РФ ст. 155 ч. 1;
``PenaltyTables.due_date``) — the day the claimant learned the payment was not made. A term counted in
years ends on the corresponding day of the last year (ст. 191, 192 п. 3): a charge due on 10.02.2021 is
late from 11.02.2021, the term starts on 12.02.2021 and its last day is 11.02.2024. ст. 204 п. 1 and
Пленум № 43 п. 17–18: the term does not run while a court-order application is pending (from filing until
the order is cancelled or the application returned); when less than six months remain after a cancelled
order, they become six months (ст. 204 п. 3). A time-barred period is flagged, never dropped: the court
applies limitation only on the debtor's request (ст. 199 п. 2), and payments may still pay it (ст. 319.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["LIMITATION_YEARS", "Suspension", "limitation_ends", "time_barred"]

LIMITATION_YEARS = 3


@dataclass(frozen=True, slots=True)
class Suspension:
    """A pending court proceeding: ``started`` (application filed) to ``ended`` (order cancelled or
    application returned) inclusive; ``ended=None`` while it is still pending."""

    started: date
    ended: date | None
    order_cancelled: bool = True


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February (ст. 192 п. 3: the last day of the month)
        return day.replace(year=day.year + years, day=28)


def limitation_ends(due_date: date, suspensions: Sequence[Suspension] = ()) -> date | None:
    """The last day on which a claim for a charge due on ``due_date`` is timely; ``None`` while a
    suspension is still pending (the term does not run)."""
    end = _add_years(due_date + timedelta(days=1), LIMITATION_YEARS)
    for suspension in sorted(suspensions, key=lambda s: s.started):
        if suspension.started > end or suspension.started <= due_date:
            continue
        if suspension.ended is None:
            return None
        remaining = end - suspension.started  # the unexpired part when the application was filed
        end = suspension.ended + remaining
        if suspension.order_cancelled:
            end = max(end, _add_months(suspension.ended, 6))
    return end


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (day.day, 30, 29, 28):
        if last <= day.day:
            try:
                return date(year, month, last)
            except ValueError:
                continue
    return date(year, month, 28)


def time_barred(due_date: date, as_of: date, suspensions: Sequence[Suspension] = ()) -> bool:
    """Whether a claim filed on ``as_of`` for the charge due on ``due_date`` is out of time."""
    end = limitation_ends(due_date, suspensions)
    return end is not None and as_of > end
