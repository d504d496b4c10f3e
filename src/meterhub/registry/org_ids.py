"""The identifiers of an organisation (pure): ИНН of a legal entity and ОГРН with their check digits.

* ИНН юридического лица — 10 digits; the 10th is the control digit: the first nine weighted by
  2, 4, 10, 3, 5, 9, 4, 6, 8, the sum taken modulo 11 and then modulo 10 (the rule ФНС's own services
  check an ИНН by).
* ОГРН — 13 digits; the 13th is the control digit: the number of the first twelve modulo 11, then modulo 10
  (Правила ведения ЕГРЮЛ, Постановление Правительства РФ от 19.06.2002 № 438, п. 8).
"""

from __future__ import annotations

__all__ = ["OrganizationIdError", "check_inn", "check_ogrn", "inn_control_digit", "ogrn_control_digit"]

INN_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)


class OrganizationIdError(ValueError):
    pass


def inn_control_digit(first_nine: str) -> int:
    """The 10th digit of a legal entity's ИНН from its first nine."""
    return sum(w * int(c) for w, c in zip(INN_WEIGHTS, first_nine, strict=True)) % 11 % 10


def ogrn_control_digit(first_twelve: str) -> int:
    """The 13th digit of an ОГРН from its first twelve."""
    return int(first_twelve) % 11 % 10


def check_inn(inn: str) -> str:
    """``inn`` stripped when it is a legal entity's valid ИНН, else :class:`OrganizationIdError` (why)."""
    inn = inn.strip()
    if len(inn) != 10 or not inn.isascii() or not inn.isdigit():
        raise OrganizationIdError(
            f"ИНН организации «{inn}» должен состоять из 10 цифр (12 цифр — ИНН гражданина или ИП); "
            "проверьте его по выписке из ЕГРЮЛ"
        )
    if int(inn[9]) != inn_control_digit(inn[:9]):
        raise OrganizationIdError(
            f"ИНН {inn}: контрольная цифра не сходится (должна быть {inn_control_digit(inn[:9])}); "
            "вероятно, опечатка — сверьте с выпиской из ЕГРЮЛ"
        )
    return inn


def check_ogrn(ogrn: str) -> str:
    """``ogrn`` stripped when it is a valid ОГРН, else :class:`OrganizationIdError` saying why."""
    ogrn = ogrn.strip()
    if len(ogrn) != 13 or not ogrn.isascii() or not ogrn.isdigit():
        raise OrganizationIdError(
            f"ОГРН «{ogrn}» должен состоять из 13 цифр (15 цифр — ОГРНИП индивидуального предпринимателя); "
            "проверьте его по выписке из ЕГРЮЛ"
        )
    if int(ogrn[12]) != ogrn_control_digit(ogrn[:12]):
        raise OrganizationIdError(
            f"ОГРН {ogrn}: контрольная цифра не сходится (должна быть {ogrn_control_digit(ogrn[:12])}); "
            "вероятно, опечатка — сверьте с выпиской из ЕГРЮЛ"
        )
    return ogrn
