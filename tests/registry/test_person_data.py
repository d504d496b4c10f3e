"""The basic-data checks of the register: the СНИЛС control number worked by hand, birth-date bounds."""

from __future__ import annotations

from datetime import date

import pytest

from meterhub.registry.person_data import person_data_problems, snils_control

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(
    ("first_nine", "control"),
    [
        # 1·9 + 1·8 + 2·7 + 2·6 + 3·5 + 3·4 + 4·3 + 4·2 + 5·1 = 95 (below 100: the sum itself)
        ("112233445", 95),
        # 1·9 + 2·8 + 3·7 + 4·6 + 5·5 + 6·4 + 7·3 + 8·2 + 9·1 = 165 → 165 mod 101 = 64
        ("123456789", 64),
        # 9·45 = 405 → 405 mod 101 = 1
        ("999999999", 1),
        # 9·9 + 2·8 + 1·3 = 100 → 00
        ("920000100", 0),
        # 9·9 + 2·8 + 1·3 + 1·1 = 101 → 00
        ("920000101", 0),
        # 9·9 + 9·8 + 5·7 + 2·6 + 1 = 201 → 201 mod 101 = 100 → 00
        ("995200001", 0),
    ],
)
def test_snils_control_number_by_hand(first_nine: str, control: int) -> None:
    assert snils_control(first_nine) == control


def _fields(data: dict, **kw) -> list[tuple[str, str]]:
    return [(p.field, p.message_ru) for p in person_data_problems(data, today=TODAY, **kw)]


def test_snils_shape_and_control_number_are_refused_in_russian() -> None:
    assert _fields({"snils": "112-233-445 95"}) == []
    assert _fields({"snils": "123-456-789 64"}) == []
    assert _fields({"snils": "112-233-445 59"}) == [
        ("snils", "контрольное число СНИЛС не сходится (должно быть 95); проверьте цифры")
    ]
    assert _fields({"snils": "11223344595"}) == [("snils", "СНИЛС записывается в виде 000-000-000 00")]
    # numbers up to 001-001-998 predate the control number and are not checked
    assert _fields({"snils": "001-001-998 12"}) == []
    assert _fields({"snils": "001-001-999 12"})[0][0] == "snils"  # 1·7 + 1·4 + 9·3 + 9·2 + 9·1 = 65 ≠ 12
    assert _fields({"snils": None}) == [] and _fields({"snils": ""}) == []


def test_birth_date_bounds() -> None:
    assert _fields({"birth_date": TODAY}) == []
    assert _fields({"birth_date": date(2026, 12, 8)}) == [
        ("birth_date", "дата рождения не может быть в будущем")
    ]
    assert _fields({"birth_date": date(1899, 12, 31)}) == [("birth_date", "дата рождения раньше 01.01.1900")]
    assert _fields({"birth_date": date(1950, 5, 2)}, death_date=date(1950, 5, 1)) == [
        ("birth_date", "дата рождения позже даты смерти 01.05.1950")
    ]
    assert _fields({"email": "a@b"}) == [("email", "адрес электронной почты указан неверно")]
    assert _fields({"email": "a@b.ru", "phone": "anything"}) == []
