"""What a court act orders each defendant of a case to pay (pure).

A case against the co-owners of a premise has several defendants (``claims_case_debtors``). The court's
order or decision says, for each, how much and how:

* **by share** (долевая ответственность): owners of shares (общая долевая собственность) answer each for
  his own part of the charges (ГК РФ ст. 249, ЖК РФ ст. 158 ч. 1; Пленум ВС РФ от 27.06.2017 № 22 п. 27) —
  an award with one debtor and his amount;
* **solidarily** (солидарная ответственность): joint owners (общая совместная собственность, e.g. spouses'
  common property, ГК РФ ст. 253, СК РФ ст. 34) and others the court holds jointly liable answer together
  for the whole amount, which the claimant may collect from any of them, but only once (ГК РФ ст. 322,
  323) — an award with several debtors and one amount.

An act may mix both (a couple jointly for their half, a third owner for his). Without an explicit entry the
act is taken to award what was claimed: each debtor by share his claimed principal and penalties and his
part of the state fee, the joint owners of one joint ownership (the register's ``joint_group``) solidarily
the sum of their parts. The total awarded (what can be collected under the act) counts each award once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LIABILITY_RU",
    "Award",
    "ClaimedDebtor",
    "DefendantAward",
    "awards_as_claimed",
    "check_awards",
    "defendants",
    "total_awarded",
    "total_costs",
]

Liability = Literal["share", "solidary"]
LIABILITY_RU = {"share": "в долевом порядке", "solidary": "солидарно"}


@dataclass(frozen=True, slots=True)
class Award:
    liability: Liability
    debtor_nos: tuple[int, ...]
    amount_kopecks: int
    """Debt and penalties awarded (collected once, however many debtors a solidary award has)."""
    costs_kopecks: int = 0
    """Court costs (the state fee, …) awarded under this award."""


@dataclass(frozen=True, slots=True)
class ClaimedDebtor:
    debtor_no: int
    principal_kopecks: int
    penalty_kopecks: int
    state_fee_kopecks: int
    joint_group: int | None = None


@dataclass(frozen=True, slots=True)
class DefendantAward:
    """One defendant's line of a court act (what ``court_decisions`` gets per defendant)."""

    debtor_no: int
    award_no: int
    liability: Liability
    amount_kopecks: int
    costs_kopecks: int
    jointly_with: tuple[int, ...] = ()


def awards_as_claimed(debtors: Sequence[ClaimedDebtor]) -> list[Award]:
    """The default reading of a court act: what was claimed — each debtor by share, except the joint owners
    of one joint ownership (the same ``joint_group``), who owe the sum of their claimed parts and fees
    solidarily (an award in the place of the group's first debtor)."""
    awards: list[Award] = []
    groups: dict[int, list[ClaimedDebtor]] = {}
    for d in debtors:
        if d.joint_group is not None:
            groups.setdefault(d.joint_group, []).append(d)
    placed: set[int] = set()
    for d in debtors:
        group = groups.get(d.joint_group, []) if d.joint_group is not None else []
        if len(group) > 1:
            if d.joint_group in placed:
                continue
            placed.add(d.joint_group)  # type: ignore[arg-type]
            amount = sum(x.principal_kopecks + x.penalty_kopecks for x in group)
            if amount > 0:
                costs = sum(x.state_fee_kopecks for x in group)
                awards.append(Award("solidary", tuple(x.debtor_no for x in group), amount, costs))
        elif d.principal_kopecks + d.penalty_kopecks > 0:
            awards.append(
                Award("share", (d.debtor_no,), d.principal_kopecks + d.penalty_kopecks, d.state_fee_kopecks)
            )
    return awards


def check_awards(awards: Sequence[Award], debtor_nos: Iterable[int]) -> None:
    """Refuse an entry that cannot be a court act of this case (ValueError naming what is wrong): no award,
    an unknown debtor, a debtor in two awards, a share award not of exactly one debtor, a solidary award of
    fewer than two, an amount not positive or costs negative."""
    known = set(debtor_nos)
    if not awards:
        raise ValueError("a court act awards something to at least one defendant")
    seen: set[int] = set()
    for i, award in enumerate(awards, 1):
        if award.liability not in LIABILITY_RU:
            raise ValueError(f"award {i}: liability must be 'share' or 'solidary', not {award.liability!r}")
        if award.liability == "share" and len(award.debtor_nos) != 1:
            raise ValueError(f"award {i}: an award by share names exactly one debtor")
        if award.liability == "solidary" and len(set(award.debtor_nos)) < 2:
            raise ValueError(f"award {i}: a solidary award names at least two debtors")
        unknown = sorted(set(award.debtor_nos) - known)
        if unknown:
            raise ValueError(f"award {i}: debtor {', '.join(map(str, unknown))} is not a debtor of the case")
        twice = sorted(seen & set(award.debtor_nos))
        if twice or len(set(award.debtor_nos)) != len(award.debtor_nos):
            raise ValueError(
                f"award {i}: debtor {', '.join(map(str, twice or award.debtor_nos))} is in two awards"
            )
        seen |= set(award.debtor_nos)
        if award.amount_kopecks <= 0:
            raise ValueError(f"award {i}: the amount awarded must be positive")
        if award.costs_kopecks < 0:
            raise ValueError(f"award {i}: the court costs awarded cannot be negative")


def total_awarded(awards: Iterable[Award]) -> int:
    """What can be collected under the act: each award once (a solidary amount is not multiplied)."""
    return sum(a.amount_kopecks for a in awards)


def total_costs(awards: Iterable[Award]) -> int:
    return sum(a.costs_kopecks for a in awards)


def defendants(awards: Sequence[Award]) -> list[DefendantAward]:
    """Per defendant, in debtor order: his award's number, liability and amounts (a solidary debtor owes
    the award's whole amount, jointly with the others named)."""
    rows = [
        DefendantAward(
            d,
            i,
            a.liability,
            a.amount_kopecks,
            a.costs_kopecks,
            tuple(x for x in a.debtor_nos if x != d) if a.liability == "solidary" else (),
        )
        for i, a in enumerate(awards, 1)
        for d in a.debtor_nos
    ]
    return sorted(rows, key=lambda r: r.debtor_no)
