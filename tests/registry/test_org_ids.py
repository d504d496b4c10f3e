"""An organisation's ИНН and ОГРН check digits. Oracles outside the code under test: identifiers of real
companies published in ЕГРЮЛ, and an independent implementation of each rule written here the way the rule
is stated (a weighted sum of digits; the remainder of a 12-digit number by 11 computed digit by digit,
long division, never through ``int``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.registry.org_ids import OrganizationIdError, check_inn, check_ogrn

# Published in ЕГРЮЛ: ПАО Сбербанк, ПАО «Газпром», ООО «Яндекс».
REAL = [
    ("7707083893", "1027700132195"),
    ("7736050003", "1027700070518"),
    ("7736207543", "1027700229193"),
]


def inn_by_the_rule(first_nine: str) -> str:
    """ИНН ЮЛ: control = (Σ dᵢ·wᵢ mod 11) mod 10 with weights 2 4 10 3 5 9 4 6 8."""
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    total = 0
    for i in range(9):
        total += (ord(first_nine[i]) - ord("0")) * weights[i]
    control = total % 11
    if control == 10:
        control = 0
    return first_nine + chr(ord("0") + control)


def ogrn_by_the_rule(first_twelve: str) -> str:
    """ОГРН: control = the last digit of (the 12-digit number mod 11), by long division."""
    remainder = 0
    for ch in first_twelve:
        remainder = (remainder * 10 + ord(ch) - ord("0")) % 11
    return first_twelve + str(remainder)[-1]


@pytest.mark.parametrize(("inn", "ogrn"), REAL)
def test_real_companies_identifiers_are_accepted(inn: str, ogrn: str) -> None:
    assert check_inn(inn) == inn and check_ogrn(f" {ogrn} ") == ogrn
    assert inn_by_the_rule(inn[:9]) == inn and ogrn_by_the_rule(ogrn[:12]) == ogrn  # the oracle agrees


@given(st.text("0123456789", min_size=9, max_size=9), st.integers(1, 9))
def test_inn_check_digit_against_the_rule(first_nine: str, shift: int) -> None:
    valid = inn_by_the_rule(first_nine)
    assert check_inn(valid) == valid
    wrong = first_nine + str((int(valid[9]) + shift) % 10)
    with pytest.raises(OrganizationIdError, match="контрольная цифра не сходится"):
        check_inn(wrong)


@given(st.text("0123456789", min_size=12, max_size=12), st.integers(1, 9))
def test_ogrn_check_digit_against_the_rule(first_twelve: str, shift: int) -> None:
    valid = ogrn_by_the_rule(first_twelve)
    assert check_ogrn(valid) == valid
    wrong = first_twelve + str((int(valid[12]) + shift) % 10)
    with pytest.raises(OrganizationIdError, match="контрольная цифра не сходится"):
        check_ogrn(wrong)


@pytest.mark.parametrize("inn", ["770708389", "770708389312", "77070838 3", "７７０７０８３８９３", ""])
def test_inn_of_a_wrong_form_is_refused_saying_ten_digits(inn: str) -> None:
    with pytest.raises(OrganizationIdError, match="10 цифр"):
        check_inn(inn)


@pytest.mark.parametrize("ogrn", ["102770013219", "304500116000157", "10277001321x5"])
def test_ogrn_of_a_wrong_form_is_refused_saying_thirteen_digits(ogrn: str) -> None:
    with pytest.raises(OrganizationIdError, match="13 цифр"):
        check_ogrn(ogrn)
