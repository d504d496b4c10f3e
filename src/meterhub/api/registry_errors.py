"""Refusals of the passport office's calls in Russian: the staff pages and the residents' household page
show them as they come.

* A request the API's models refuse (FastAPI's 422 list) keeps pydantic's entries (``loc``, ``msg``,
  ``type``) and gains ``msg_ru``: the field as the forms name it («Дата рождения») and what to do
  (:func:`validation_message_ru`); only for the registry's routes, other routes answer as before.
* A refusal of the database (a unique, check or foreign-key constraint) becomes a sentence naming what
  clashed (:func:`constraint_message_ru`) instead of PostgreSQL's English.
"""

from __future__ import annotations

import re
from typing import Any

import psycopg
from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

__all__ = ["FIELD_RU", "constraint_message_ru", "registry_validation_handler", "validation_message_ru"]

REGISTRY_ROUTE_MODULES = frozenset(
    {
        "meterhub.api.routes.registry",
        "meterhub.api.routes.registry_outputs",
        "meterhub.api.routes.registry_records",
        "meterhub.api.routes.household",
    }
)

FIELD_RU = {
    "last_name": "Фамилия", "first_name": "Имя", "patronymic": "Отчество", "birth_date": "Дата рождения",
    "birth_place": "Место рождения", "birth_year": "Год рождения", "sex": "Пол",
    "citizenship": "Гражданство", "snils": "СНИЛС", "phone": "Телефон", "email": "Электронная почта",
    "person": "Гражданин", "person_id": "Гражданин", "representative_id": "Представитель",
    "document": "Документ", "doc_type": "Вид документа", "type": "Вид документа", "series": "Серия",
    "number": "Номер", "issued_by": "Кем выдан", "issued_on": "Дата выдачи",
    "subdivision_code": "Код подразделения", "building_id": "Дом", "premise_no": "Квартира",
    "account_no": "Лицевой счёт", "kind": "Вид", "date": "Дата", "end_date": "Дата окончания",
    "new_end": "Новая дата окончания", "moved_from": "Откуда прибыл", "moved_to": "Куда выбыл",
    "relation_to_head": "Отношение к собственнику (нанимателю)", "basis": "Основание",
    "reason": "Причина", "acquired_on": "Дата приобретения права", "lost_on": "Дата прекращения права",
    "share": "Доля", "organization": "Организация", "title_type": "Документ о праве",
    "title_number": "Номер документа о праве", "title_date": "Дата документа о праве",
    "registry_entry": "Номер записи в ЕГРН", "scan_file": "Скан документа",
    "joint_group": "Совместная собственность",
    "valid_from": "Действует с", "replaced_on": "Дата замены", "status": "Статус", "comment": "Комментарий",
    "staff_note": "Примечание", "note": "Примечание", "q": "Поиск", "first": "Первый день периода",
    "last": "Последний день периода", "on": "Дата", "since": "С даты", "until": "По дату",
    "arrival_id": "Регистрация", "event_id": "Запись", "order_id": "Заказ справки",
    "ownership_id": "Право собственности", "fields": "Поля формы", "limit": "Количество строк",
}  # fmt: skip


def _field(loc: Any) -> str:
    parts = [p for p in (loc or ()) if p not in ("body", "query", "path", "form") and isinstance(p, str)]
    if not parts:
        return ""
    return FIELD_RU.get(parts[-1], parts[-1])


_PATTERN_RU = {
    "snils": "запишите в виде 000-000-000 00",
    "subdivision_code": "запишите в виде 000-000",
    "share": "запишите дробью, например 1/2 (или 1 — вся квартира)",
}


def _what_to_do(error: dict[str, Any]) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    loc = error.get("loc") or ()
    if kind == "missing":
        return "заполните поле"
    if kind == "string_too_short":
        return "заполните поле" if ctx.get("min_length", 1) <= 1 else f"не короче {ctx['min_length']} знаков"
    if kind == "string_too_long":
        return f"не длиннее {ctx.get('max_length')} знаков; сократите"
    if kind == "string_pattern_mismatch":
        return _PATTERN_RU.get(loc[-1] if loc else "", "неверный формат; проверьте запись")
    if kind.startswith("date") or kind.startswith("datetime"):
        return "дата указана неверно; укажите её в виде ДД.ММ.ГГГГ"
    if kind.startswith(("int_", "float_", "decimal_")):
        return "укажите число"
    if kind in ("greater_than", "greater_than_equal"):
        return f"укажите число не меньше {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than", "less_than_equal"):
        return f"укажите число не больше {ctx.get('le', ctx.get('lt'))}"
    if kind in ("literal_error", "enum"):
        return "выберите значение из списка"
    if kind == "bool_parsing":
        return "укажите «да» или «нет»"
    if kind == "json_invalid":
        return "запрос повреждён (не JSON); обновите страницу и повторите"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "значение не того вида; обновите страницу и повторите"
    return "значение не принято; проверьте поле"


def validation_message_ru(error: dict[str, Any]) -> str:
    """One of FastAPI's 422 entries in Russian: «Дата рождения: дата указана неверно; …». A check of the
    model itself (``value_error``) is already written in Russian and is passed on as it is."""
    if error.get("type") == "value_error":
        text = str((error.get("ctx") or {}).get("error", "")) or "значение не принято; проверьте поле"
    else:
        text = _what_to_do(error)
    field = _field(error.get("loc"))
    return f"{field}: {text}" if field else text[:1].upper() + text[1:]


async def registry_validation_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's 422 with ``msg_ru`` on each entry for the registry's routes; others as FastAPI answers."""
    assert isinstance(exc, RequestValidationError)
    route = request.scope.get("route")
    module = getattr(getattr(route, "endpoint", None), "__module__", "")
    if module not in REGISTRY_ROUTE_MODULES:
        return await request_validation_exception_handler(request, exc)
    detail = jsonable_encoder(exc.errors())
    for entry, error in zip(detail, exc.errors(), strict=True):
        entry["msg_ru"] = validation_message_ru(error)
        entry.pop("ctx", None)  # may hold the exception object; msg and msg_ru say it
    return JSONResponse({"detail": detail}, status_code=422)


_TABLE_RU = {
    "premises": "квартиры (помещения) с таким номером в этом доме нет в перечне помещений; проверьте номер "
    "дома и квартиры",
    "buildings": "такого дома нет в системе; проверьте код дома",
    "accounts": "такого лицевого счёта нет; проверьте номер счёта или оставьте поле пустым",
    "registry_persons": "такого гражданина нет в реестре; найдите его поиском по фамилии",
    "registry_events": "такой записи о регистрации нет в реестре; проверьте номер записи",
}
_REFERENCED = re.compile(r'table "([a-z_]+)"')


def constraint_message_ru(e: psycopg.errors.IntegrityError) -> str:
    """A constraint the database refused, said for the passport office."""
    table, constraint = e.diag.table_name or "", e.diag.constraint_name or ""
    if isinstance(e, psycopg.errors.UniqueViolation):
        if table == "registry_documents":
            return (
                "документ с таким видом, серией и номером уже есть в реестре у другого гражданина; проверьте "
                "номер или найдите этого гражданина поиском"
            )
        if "legacy_key" in constraint:
            return "запись с этим кодом картотеки уже есть в реестре"
        return f"такая запись уже есть в реестре ({constraint}); проверьте введённые данные"
    if isinstance(e, psycopg.errors.ForeignKeyViolation):
        found = _REFERENCED.search(e.diag.message_detail or "")
        referenced = found.group(1) if found else ""
        return _TABLE_RU.get(referenced, f"связанная запись не найдена ({constraint}); проверьте номера")
    return _CHECK_RU.get(
        constraint, f"значение не принято (проверка {constraint or table}); проверьте поля формы"
    )


_CHECK_RU = {  # PostgreSQL's names of the registry's unnamed checks (<table>_<column>_check, <table>_checkN)
    "registry_representatives_check": "гражданин не может быть законным представителем самого себя; "
    "выберите другого представителя",
    "registry_representatives_kind_check": "вид представительства: выберите родителя, усыновителя, опекуна "
    "или попечителя",
    "registry_owners_check": "доля не может быть больше 1; укажите дробью, например 1/2",
    "registry_owners_check1": "укажите собственника: либо гражданина из реестра, либо организацию",
    "registry_owners_check2": "дата прекращения права должна быть позже даты его приобретения",
    "registry_owners_share_numerator_check": "доля должна быть больше 0; укажите дробью, например 1/2",
    "registry_owners_joint_group_check": "номер совместной собственности должен быть больше 0",
    "registry_owners_organization_inn_check": "ИНН организации — 10 цифр",
    "registry_owners_organization_ogrn_check": "ОГРН — 13 цифр",
    "registry_owners_organization_ids_check": "ИНН, ОГРН и адрес юридического лица указываются только для "
    "собственника-организации",
    "registry_persons_snils_check": "СНИЛС записывается в виде 000-000-000 00",
    "registry_persons_sex_check": "пол: выберите мужской или женский",
    "registry_documents_doc_type_check": "вид документа: выберите из списка",
    "registry_documents_subdivision_code_check": "код подразделения записывается в виде 000-000",
    "registry_documents_number_check": "укажите номер документа",
    "registry_person_names_last_name_check": "укажите фамилию",
    "registry_person_names_first_name_check": "укажите имя",
    "registry_events_check": "для регистрации укажите дом и квартиру",
    "registry_events_check1": "укажите запись о регистрации, к которой относится снятие, продление или "
    "аннулирование",
    "registry_events_check2": "для регистрации по месту пребывания укажите дату окончания (срок пребывания)",
    "registry_events_check3": "дата окончания должна быть позже даты регистрации",
}
