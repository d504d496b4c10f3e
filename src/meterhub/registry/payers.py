"""Who receives the receipt (плательщик) where the building keeps the register: the premise's owners.

:func:`payer_name` is the pure rule; :func:`owners_on_day` reads the owners in force on a day (the ГИС ЖКХ
accounts export, ``exchange.gis.sources``, takes its payer from them too) and :func:`register_payer_names`
applies the rule to them per account. The receipt loader (``billing.receipts``) prints its answer on the
«Плательщик» line and falls back to the account's stored owner name (``accounts.owner_name``) where it
gives none.

The rule (docs/passport-office.md, «Who receives the receipt»):

* only owners in force on the day count (``acquired_on <= day < lost_on``), with their name on that day
  (a person with no name in force that day is not printed as an empty entry: «и др.» follows the others);
* an owner whose share equals the account's share of the premise pays that account (a premise split
  into accounts by shares); otherwise only the premise's single open account takes the owners;
* one owner: the full ФИО (or the organisation's name); several owners: all of them, largest share first
  (ties: earlier acquisition), persons as «Фамилия И. О.», at most :data:`MAX_NAMED` and then «и др.».
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import psycopg

__all__ = ["MAX_NAMED", "OwnerOnDay", "owners_on_day", "payer_name", "register_payer_names"]

MAX_NAMED = 3
_SAME_SHARE = Fraction(1, 10**6)  # accounts.share is a decimal: 0.333333 is the owner's 1/3


@dataclass(frozen=True, slots=True)
class OwnerOnDay:
    """An owner of a premise in force on a day: a person (``person_id`` set; ``last_name`` empty when the
    register has no name of theirs in force on the day) or an organisation."""

    share: Fraction
    acquired_on: date
    last_name: str = ""
    first_name: str = ""
    patronymic: str = ""
    organization: str = ""
    person_id: int | None = None
    sex: str | None = None
    """``male`` or ``female`` (None: not recorded)."""
    birth_date: date | None = None
    snils: str | None = None
    """As recorded: ``123-456-789 01``."""

    def holds_share(self, account_share: Fraction) -> bool:
        """The owner's share is the account's share of the premise (``accounts.share`` is a decimal:
        0.333333 is the owner's 1/3)."""
        return abs(self.share - account_share) < _SAME_SHARE

    @property
    def full(self) -> str:
        if not self.last_name:
            return self.organization
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def short(self) -> str:
        """«Иванов И. И.» (an organisation keeps its name)."""
        if not self.last_name:
            return self.organization
        initials = " ".join(f"{p[0]}." for p in (self.first_name, self.patronymic) if p)
        return f"{self.last_name} {initials}".strip()


def payer_name(owners: Sequence[OwnerOnDay], account_share: Fraction, only_account: bool) -> str | None:
    """The payer's name for an account of the premise whose ``owners`` are given; None: the register
    does not say (no owner, or several accounts and no owner holding exactly the account's share)."""
    # an owner the register cannot name on the day (a person whose only recorded name starts later) is not
    # printed as an empty entry: the named ones are, followed by «и др.»; with nobody nameable the register
    # does not say
    ordered = sorted((o for o in owners if o.full), key=lambda o: (-o.share, o.acquired_on))
    unnamed = len(owners) - len(ordered)
    exact = [o for o in ordered if o.holds_share(account_share)]
    if len(exact) == 1 and not only_account:
        return exact[0].full
    if not ordered or not only_account:
        return None
    if len(ordered) == 1 and not unnamed:
        return ordered[0].full
    names = [o.short for o in ordered[:MAX_NAMED]]
    more = " и др." if len(ordered) > MAX_NAMED or unnamed else ""
    return ", ".join(names) + more


_OWNERS = """
SELECT o.premise_no, o.share_numerator, o.share_denominator, o.acquired_on, coalesce(n.last_name, ''),
       coalesce(n.first_name, ''), coalesce(n.patronymic, ''), o.organization, o.person_id, p.sex,
       p.birth_date, p.snils
FROM registry_owners o
JOIN registry_buildings k ON k.building_id = o.building_id AND k.kept_from <= %(d)s
LEFT JOIN registry_persons p ON p.person_id = o.person_id
LEFT JOIN LATERAL (SELECT * FROM registry_person_names x WHERE x.person_id = o.person_id
                   AND x.valid_from <= %(d)s ORDER BY x.valid_from DESC LIMIT 1) n ON true
WHERE o.building_id = %(b)s AND o.acquired_on <= %(d)s AND (o.lost_on IS NULL OR o.lost_on > %(d)s)
ORDER BY o.premise_no, o.acquired_on, o.ownership_id
"""


def owners_on_day(conn: psycopg.Connection, building_id: str, day: date) -> dict[str, list[OwnerOnDay]]:
    """``{premise_no: owners}``: the owners of each premise of the building in force on ``day``, with
    their names on that day, in order of acquisition; empty when the building does not keep the
    register on ``day``."""
    owners: dict[str, list[OwnerOnDay]] = defaultdict(list)
    for premise, numerator, denominator, *rest in conn.execute(_OWNERS, {"b": building_id, "d": day}):
        # rest: acquired_on, the name on the day, organization, person_id, sex, birth_date, snils
        owners[premise].append(OwnerOnDay(Fraction(numerator, denominator), *rest))
    return dict(owners)


def register_payer_names(conn: psycopg.Connection, building_id: str, day: date) -> dict[str, str]:
    """``{account_no: payer name}`` for the accounts open on ``day`` that the register names a payer for;
    empty when the building does not keep the register on ``day``. Accounts not in the answer keep
    their stored owner name."""
    owners = owners_on_day(conn, building_id, day)
    if not owners:
        return {}
    accounts = conn.execute(
        "SELECT account_no, premise_no, share FROM accounts WHERE building_id = %s AND opened_on <= %s "
        "AND (closed_on IS NULL OR closed_on > %s)",
        (building_id, day, day),
    ).fetchall()
    per_premise: dict[str, int] = defaultdict(int)
    for _, premise, _ in accounts:
        per_premise[premise] += 1
    names = {}
    for account_no, premise, share in accounts:
        name = payer_name(owners.get(premise, ()), Fraction(share), per_premise[premise] == 1)
        if name:
            names[account_no] = name
    return names
