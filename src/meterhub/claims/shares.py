"""Splitting a debt among the owners of a premise by their shares (доли) — pure, exact to the kopeck.

Co-owners of a premise owe its charges in proportion to their shares (ГК РФ ст. 249, ЖК РФ ст. 158 ч. 1,
Пленум ВС РФ от 27.06.2017 № 22 п. 27): each is claimed his share of every line (debt period × service ×
principal/penalty). A line of ``A`` kopecks gives owner ``i`` with share ``n_i/d_i`` the part
``⌊A·w_i / W⌋`` (``w_i`` the shares over a common denominator, ``W`` the share of the premise the listed
owners hold), and the kopecks left go one each to the largest remainders, ties to the earlier owner in the
list — the parts sum to the line exactly
(billing's :func:`~meterhub.billing.rules.payment_allocation.split_kopecks`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from meterhub.billing.rules.payment_allocation import split_kopecks

__all__ = ["Share", "split_by_shares", "split_lines_by_shares"]


@dataclass(frozen=True, slots=True)
class Share:
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if not 0 < self.numerator <= self.denominator:
            raise ValueError(f"a share must be within (0, 1], got {self.numerator}/{self.denominator}")

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def _weights(shares: Sequence[Share]) -> list[int]:
    if not shares:
        raise ValueError("no owners to split the debt among")
    if sum((s.fraction for s in shares), Fraction(0)) > 1:
        raise ValueError(f"shares {', '.join(map(str, shares))} add up to more than the whole premise")
    common = lcm(*(s.denominator for s in shares))
    return [s.numerator * (common // s.denominator) for s in shares]


def split_by_shares(amount_kopecks: int, shares: Sequence[Share]) -> list[int]:
    """``amount_kopecks`` of the listed owners' premise split by their shares. When the listed shares do not
    cover the whole premise (an owner not sued, an unknown one), each part is still his share of the whole
    — ``⌊A·n/d⌋`` plus a kopeck by the largest remainder — and the rest is not claimed from anyone listed."""
    weights = _weights(shares)
    held = Fraction(sum(weights), lcm(*(s.denominator for s in shares)))
    # the listed owners' part of the line, whole kopecks: a fraction of a kopeck stays with the unlisted
    claimed_kopecks = int(amount_kopecks * held)
    return split_kopecks(claimed_kopecks, weights)


def split_lines_by_shares(
    lines: Mapping[tuple[str, str, str], int], shares: Sequence[Share]
) -> list[dict[tuple[str, str, str], int]]:
    """Every line (``(debt period, service, kind) → kopecks``) split by :func:`split_by_shares`; one mapping
    per owner, in the order of ``shares``, without zero parts."""
    result: list[dict[tuple[str, str, str], int]] = [{} for _ in shares]
    for key in sorted(lines):
        for owner, part in enumerate(split_by_shares(lines[key], shares)):
            if part:
                result[owner][key] = part
    return result
