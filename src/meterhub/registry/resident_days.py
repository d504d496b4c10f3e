"""Resident counts per account and day from the register (количество проживающих по дням).

The close bills normatives by ``n_i`` weighted by days (ПП 354: when the count changes inside the period,
``n_i = Σ persons × days / days of the month``). This module turns residence spans
(:func:`meterhub.registry.events.replay_events`) into the count of each day:

* ``registered`` — persons registered at the place of residence (по месту жительства);
* ``temporary`` — persons registered at the place of stay (по месту пребывания) and temporary residents by
  notice (временно проживающие), the latter only when their stay lasts more than 5 days in a row
  (ПП 354 п. 56(1): «более 5 дней подряд»); a person counts once a day, as registered if any of their
  spans of that day is a residence registration.

Persons go to the account (лицевой счёт) of their premise open on that day: the account the arrival is
bound to when it is open, otherwise the premise's open account with the largest share (ties: the lower
account number). Pure: no database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from meterhub.registry.events import ResidenceKind, ResidenceSpan

__all__ = [
    "NOTICE_MIN_DAYS",
    "AccountWindow",
    "DayCount",
    "ResidentDays",
    "counts_by_day",
]

NOTICE_MIN_DAYS = 6
"""A temporary resident by notice counts when staying more than 5 days in a row (ПП 354 п. 56(1))."""


@dataclass(frozen=True, slots=True)
class AccountWindow:
    """An account of a premise and the days it is open, ``[opened_on, closed_on)``."""

    account_no: str
    premise_no: str
    opened_on: date
    closed_on: date | None = None
    share: Decimal = Decimal(1)

    def open_on(self, day: date) -> bool:
        return self.opened_on <= day and (self.closed_on is None or day < self.closed_on)


@dataclass(frozen=True, slots=True)
class DayCount:
    registered: int = 0
    temporary: int = 0

    @property
    def total(self) -> int:
        return self.registered + self.temporary


@dataclass
class ResidentDays:
    """Counts of ``[first, end)``: ``by_account[account][i]`` is the count of day ``first + i``;
    ``unbilled`` names premise-days with residents but no open account (shown as loader warnings)."""

    first: date
    end: date
    by_account: dict[str, list[DayCount]] = field(default_factory=dict)
    unbilled: list[tuple[str, date, int]] = field(default_factory=list)  # (premise, day, persons)

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    def person_days(self, account_no: str) -> int:
        """Σ over the days of (registered + temporary) [person-days]."""
        return sum(c.total for c in self.by_account.get(account_no, ()))

    def weighted(self, account_no: str) -> Decimal:
        """``n_i`` weighted by days: person-days / days of the period [persons]."""
        return Decimal(self.person_days(account_no)) / self.days


def _counts(span: ResidenceSpan) -> bool:
    if span.kind is not ResidenceKind.NOTICE:
        return True
    return span.end is None or (span.end - span.start).days >= NOTICE_MIN_DAYS


def _account_for(span: ResidenceSpan, day: date, open_accounts: Sequence[AccountWindow]) -> str | None:
    for acc in open_accounts:
        if acc.account_no == span.account_no:
            return acc.account_no
    if not open_accounts:
        return None
    return min(open_accounts, key=lambda a: (-a.share, a.account_no)).account_no


def counts_by_day(
    spans: Iterable[ResidenceSpan], accounts: Iterable[AccountWindow], first: date, end: date
) -> ResidentDays:
    """The count of every day of ``[first, end)`` per account of the building."""
    if end <= first:
        raise ValueError(f"empty period: {first} .. {end}")
    result = ResidentDays(first, end)
    by_premise: dict[str, list[AccountWindow]] = {}
    for acc in accounts:
        by_premise.setdefault(acc.premise_no, []).append(acc)
        if acc.opened_on < end and (acc.closed_on is None or acc.closed_on > first):
            result.by_account.setdefault(acc.account_no, [DayCount()] * result.days)
    spans_by_premise: dict[str, list[ResidenceSpan]] = {}
    for span in spans:
        if span.days_in(first, end) and _counts(span):
            spans_by_premise.setdefault(span.premise_no, []).append(span)
    for premise, premise_spans in sorted(spans_by_premise.items()):
        windows = by_premise.get(premise, [])
        # the count only changes where a span or an account starts or ends: count each run of equal days once
        cuts = {first, end}
        for d in (
            *(x for sp in premise_spans for x in (sp.start, sp.end)),
            *(x for w in windows for x in (w.opened_on, w.closed_on)),
        ):
            if d is not None and first < d < end:
                cuts.add(d)
        edges = sorted(cuts)
        for lo, hi in itertools.pairwise(edges):
            i, j = (lo - first).days, (hi - first).days
            open_accounts = [a for a in windows if a.open_on(lo)]
            persons: dict[tuple[str | None, int], bool] = {}  # (account, person) -> registered
            for span in premise_spans:
                if span.covers(lo):
                    key = (_account_for(span, lo, open_accounts), span.person_id)
                    persons[key] = persons.get(key, False) or span.kind is ResidenceKind.RESIDENCE
            per_account: dict[str | None, list[int]] = {}
            for (account, _person), registered in persons.items():
                tally = per_account.setdefault(account, [0, 0])
                tally[0 if registered else 1] += 1
            for account, (reg, tmp) in per_account.items():
                if account is None:
                    result.unbilled.extend((premise, lo + timedelta(days=k), reg + tmp) for k in range(j - i))
                    continue
                result.by_account[account][i:j] = [DayCount(reg, tmp)] * (j - i)
    return result
