"""How much of each debt money from one defendant under a court act may pay (pure).

A court act orders each defendant to pay his award (:mod:`.awards`): a defendant by share at most his own
amount, the debtors of a solidary award together at most its one amount (ГК РФ ст. 322, 323: collected
once, from any of them). Money under the act from a defendant pays the debts claimed from him (a solidary
award: from any of its debtors) — each line at most what was claimed of it less what this award already
paid of it, and at most what the account still owes of it — and all of them together at most what is left
of the award. When the award is less than the lines (the court refused the penalties, cut the debt), the
lines are cut from the end of the order the money pays them in: principal oldest period first, then the
penalties oldest first (billing's writ allocation, ``post_payment(debt_limits=…)``); a period cut part-way
is split over its services pro rata by the largest remainder
(:func:`~meterhub.billing.rules.payment_allocation.split_kopecks`, services in receipt order).
"""

from __future__ import annotations

from collections.abc import Mapping

from meterhub.billing.rules.payment_allocation import service_receipt_key, split_kopecks

__all__ = ["LineKey", "award_debt_limits"]

LineKey = tuple[str, str, str]
"""(debt period ``YYYY-MM``, kind ``principal``/``penalty``, service)."""


def award_debt_limits(
    claimed: Mapping[LineKey, int],
    paid: Mapping[LineKey, int],
    owed: Mapping[LineKey, int],
    award_left_kopecks: int,
) -> dict[tuple[str, str], dict[str, int]]:
    """The limits ``(debt period, kind) → {service: at most kopecks}`` for money from the defendants of one
    award: per line ``min(claimed − paid under this award, owed)`` [kopecks], cut so that they add up to
    at most ``award_left_kopecks`` (the award's amount less what it already received for debts)."""
    left: dict[LineKey, int] = {}
    for key, amount in claimed.items():
        line = min(amount - paid.get(key, 0), owed.get(key, 0))
        if line > 0:
            left[key] = line
    budget = max(0, award_left_kopecks)
    periods: dict[tuple[str, str], dict[str, int]] = {}
    for (period, kind, service), amount in left.items():
        periods.setdefault((period, kind), {})[service] = amount
    result: dict[tuple[str, str], dict[str, int]] = {}
    order = sorted(periods, key=lambda pk: (pk[1] != "principal", pk[0]))
    for period_kind in order:
        if budget <= 0:
            break
        services = periods[period_kind]
        total = sum(services.values())
        if total <= budget:
            result[period_kind] = dict(services)
            budget -= total
            continue
        names = sorted(services, key=service_receipt_key)
        parts = split_kopecks(budget, [services[s] for s in names])
        result[period_kind] = {s: part for s, part in zip(names, parts, strict=True) if part > 0}
        budget = 0
    return result
