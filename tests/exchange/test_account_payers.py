"""Which registry owner pays which account of a split premise (exchange.gis.account_payers), by hand."""

from __future__ import annotations

from datetime import date
from fractions import Fraction as F

from meterhub.exchange.gis.account_payers import PremiseAccount, account_payers
from meterhub.registry.payers import OwnerOnDay


def _owner(share: F, last: str, first: str, patronymic: str = "", pid: int = 1) -> OwnerOnDay:
    return OwnerOnDay(share, date(2015, 1, 1), last, first, patronymic, person_id=pid)


PETROVA = _owner(F(1, 2), "Петрова", "Мария", "Сергеевна", 1)
PETROV = _owner(F(1, 2), "Петров", "Пётр", "Петрович", 2)
ORLOVA = _owner(F(1, 3), "Орлова", "Вера", "", 3)


def _names(payers: dict[str, OwnerOnDay | None]) -> dict[str, str | None]:
    return {no: (o.last_name if o else None) for no, o in payers.items()}


def test_two_halves_go_to_the_owner_named_on_each_account() -> None:
    accounts = [PremiseAccount("A", F(1, 2), "Петров П. П."), PremiseAccount("B", F(1, 2), "петрова мария")]
    assert _names(account_payers([PETROVA, PETROV], accounts)) == {"A": "Петров", "B": "Петрова"}


def test_the_other_half_is_the_owner_left() -> None:
    # B names nobody of the register (a former surname); A names Петрова, so B is Петров's
    accounts = [PremiseAccount("A", F(1, 2), "ПЕТРОВА М.С."), PremiseAccount("B", F(1, 2), "Иванов И. И.")]
    assert _names(account_payers([PETROVA, PETROV], accounts)) == {"A": "Петрова", "B": "Петров"}


def test_two_halves_nobody_named_keep_their_stored_names() -> None:
    accounts = [PremiseAccount("A", F(1, 2), "Иванов И. И."), PremiseAccount("B", F(1, 2), "")]
    assert _names(account_payers([PETROVA, PETROV], accounts)) == {"A": None, "B": None}


def test_one_owner_of_a_half_is_not_the_payer_of_both_halves() -> None:
    accounts = [PremiseAccount("A", F(1, 2), ""), PremiseAccount("B", F(1, 2), "")]
    assert _names(account_payers([PETROVA], accounts)) == {"A": None, "B": None}


def test_distinct_shares_match_without_names() -> None:
    # 0.333333 (accounts.share to 10⁻⁶) is Орлова's 1/3; the ⅔ account has no owner of ⅔
    accounts = [PremiseAccount("A", F("0.333333"), ""), PremiseAccount("B", F("0.666667"), "")]
    assert _names(account_payers([ORLOVA], accounts)) == {"A": "Орлова", "B": None}


def test_the_only_account_takes_the_exact_share_else_the_largest_owner() -> None:
    assert _names(account_payers([PETROVA, ORLOVA], [PremiseAccount("A", F(1, 3), "")])) == {"A": "Орлова"}
    assert _names(account_payers([PETROVA, ORLOVA], [PremiseAccount("A", F(1), "")])) == {"A": "Петрова"}
    assert _names(account_payers([], [PremiseAccount("A", F(1), "")])) == {"A": None}
