"""Checks of a person's basic data (birth date, СНИЛС, e-mail) beyond their shape, each refusal said in
English and in Russian for the passport office's edit form. Pure: the store calls them before writing.

* СНИЛС (страховой номер индивидуального лицевого счёта, ``NNN-NNN-NNN CC``): the control number ``CC``
  is the sum of the first nine digits weighted 9, 8, …, 1 (from the left); a sum below 100 is the control
  number itself, 100 and 101 give 00, a larger sum is taken modulo 101 first (and 100 again gives 00).
  Numbers up to 001-001-998 were issued before the control number was introduced and are not checked.
* A birth date lies between 01.01.1900 and today and not after the date of death.
* An e-mail has one ``@`` with a dot in the domain part (the API checks the shape too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

__all__ = [
    "EARLIEST_BIRTH",
    "PersonDataInvalid",
    "PersonDataProblem",
    "person_data_problems",
    "snils_control",
]

EARLIEST_BIRTH = date(1900, 1, 1)
_SNILS = re.compile(r"^(\d{3})-(\d{3})-(\d{3}) (\d{2})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_UNCHECKED_UP_TO = 1_001_998  # 001-001-998: numbers issued before the control number existed


@dataclass(frozen=True)
class PersonDataProblem:
    field: str
    message: str
    message_ru: str


class PersonDataInvalid(ValueError):
    """Basic data refused; ``problems`` names each field with what is wrong (English and Russian); the
    message is the Russian one (the CLI and the card index import print it)."""

    def __init__(self, problems: list[PersonDataProblem]) -> None:
        super().__init__("; ".join(p.message_ru for p in problems))
        self.problems = problems


def snils_control(first_nine: str) -> int:
    """The control number of a СНИЛС from its first nine digits (``"112233445"`` → 95)."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(9, 0, -1), strict=True))
    if total > 101:
        total %= 101
    return 0 if total in (100, 101) else total


def _snils_problem(value: str) -> PersonDataProblem | None:
    m = _SNILS.match(value)
    if m is None:
        return PersonDataProblem(
            "snils", "must be written NNN-NNN-NNN NN", "СНИЛС записывается в виде 000-000-000 00"
        )
    digits = "".join(m.groups()[:3])
    if int(digits) <= _UNCHECKED_UP_TO:
        return None
    expected = snils_control(digits)
    if int(m.group(4)) != expected:
        return PersonDataProblem(
            "snils",
            f"the control number does not match (expected {expected:02d})",
            f"контрольное число СНИЛС не сходится (должно быть {expected:02d}); проверьте цифры",
        )
    return None


def person_data_problems(
    data: Mapping[str, object], *, today: date, death_date: date | None = None
) -> list[PersonDataProblem]:
    """What is wrong with the given basic data (only the fields present are checked); [] when fine."""
    problems: list[PersonDataProblem] = []
    birth = data.get("birth_date")
    if isinstance(birth, date):
        if birth > today:
            problems.append(
                PersonDataProblem("birth_date", "is in the future", "дата рождения не может быть в будущем")
            )
        elif birth < EARLIEST_BIRTH:
            problems.append(
                PersonDataProblem("birth_date", "is before 1900", "дата рождения раньше 01.01.1900")
            )
        elif death_date is not None and birth > death_date:
            problems.append(
                PersonDataProblem(
                    "birth_date",
                    f"is after the date of death {death_date.isoformat()}",
                    f"дата рождения позже даты смерти {death_date.strftime('%d.%m.%Y')}",
                )
            )
    snils = data.get("snils")
    if isinstance(snils, str) and snils:
        found = _snils_problem(snils)
        if found is not None:
            problems.append(found)
    email = data.get("email")
    if isinstance(email, str) and email and not _EMAIL.match(email):
        problems.append(
            PersonDataProblem("email", "is not an e-mail address", "адрес электронной почты указан неверно")
        )
    return problems
