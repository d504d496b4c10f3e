"""Which registry owner pays which account of a premise (плательщик лицевого счёта) — pure, no database.

The ГИС ЖКХ accounts export names one person per account (``PayerInfo/Ind``). A premise split into
several accounts by shares (a communal flat, or a flat whose owners each pay for their share) has one
account per owner; the register records the owners with their shares but not which account is whose.
Each account must carry its own owner: two accounts never get the same person because both shares are
equal. The rule, per premise:

1. the premise's only account: the owner of exactly its share, else the largest owner;
2. several accounts: an owner is a candidate for an account when he holds exactly the account's share
   (:meth:`OwnerOnDay.holds_share`). A candidate whose name is the account's stored owner name
   (``accounts.owner_name``, compared without case, ё/е, dots and spaces, full or as «Фамилия И. О.»)
   pays that account; then, repeatedly, an account left with one candidate nobody else can take gets
   him (so two accounts of ½ with owners of ½ each: the one named on its account, the other to the
   other account);
3. an account still without a payer (no candidate, or several the names cannot tell apart) is sent
   with its stored owner name — the register cannot tell which owner pays it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from meterhub.registry.payers import OwnerOnDay

__all__ = ["PremiseAccount", "account_payers"]


@dataclass(frozen=True)
class PremiseAccount:
    """An account of the premise as stored: number, share of the premise, the owner name on it."""

    account_no: str
    share: Fraction
    owner_name: str


def _letters(name: str) -> str:
    return "".join(ch for ch in name.casefold().replace("ё", "е") if ch.isalpha())


def _named_on(account: PremiseAccount, owner: OwnerOnDay) -> bool:
    stored = _letters(account.owner_name)
    return bool(stored) and stored in (_letters(owner.full), _letters(owner.short))


def account_payers(
    owners: Sequence[OwnerOnDay], accounts: Sequence[PremiseAccount]
) -> dict[str, OwnerOnDay | None]:
    """``{account_no: the owner paying it, or None}`` for the accounts of one premise.

    ``owners`` are the premise's persons the register names on the day, largest share first (ties:
    earlier acquisition) — the order decides only for the premise's only account.
    """
    if len(accounts) == 1:
        only = accounts[0]
        exact = next((o for o in owners if o.holds_share(only.share)), None)
        return {only.account_no: exact or (owners[0] if owners else None)}
    candidates = {a.account_no: [i for i, o in enumerate(owners) if o.holds_share(a.share)] for a in accounts}
    paid: dict[str, int] = {}
    for account in accounts:
        named = [i for i in candidates[account.account_no] if _named_on(account, owners[i])]
        if len(named) == 1 and named[0] not in paid.values():
            paid[account.account_no] = named[0]
    changed = True
    while changed:
        changed = False
        open_accounts = [a.account_no for a in accounts if a.account_no not in paid]
        left = {no: [i for i in candidates[no] if i not in paid.values()] for no in open_accounts}
        for no in open_accounts:
            rivals = [left[other] for other in open_accounts if other != no]
            if len(left[no]) == 1 and not any(left[no][0] in theirs for theirs in rivals):
                paid[no] = left[no][0]
                changed = True
                break
    return {a.account_no: owners[paid[a.account_no]] if a.account_no in paid else None for a in accounts}
