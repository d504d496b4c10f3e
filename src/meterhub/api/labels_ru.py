"""Russian labels (подписи) for the codes the API returns to residents: volume methods, tariff zones,
units, tariff schemes and payment sources.

The API keeps the machine-readable code in its own field and puts the Russian text beside it; anything a
resident reads comes from here. An unknown code is shown as it is (never an invented translation).
"""

from __future__ import annotations

from meterhub.billing.rules.periods import MONTHS_RU

__all__ = [
    "METHODS",
    "PAYMENT_SOURCES",
    "SCHEMES",
    "UNITS",
    "ZONES",
    "method_ru",
    "payment_source_ru",
    "recalculation_reason_ru",
    "scheme_ru",
    "unit_ru",
    "zone_ru",
]

METHODS = {
    "meter": "по счётчику",
    "average": "по среднему",
    "normative": "по нормативу",
    "normative_x1_5": "по нормативу ×1,5",
    "area": "по площади",
    # common-property (ОДН / СОИ) methods
    "actual": "по общедомовому счётчику",
    "actual_capped": "по общедомовому счётчику, не выше норматива",
    # heating (отопление), the house's method
    "norm_no_odpu": "по нормативу (отопление)",
    "norm_no_odpu_ipu": "по счётчику квартиры и нормативу на общее имущество",
    "odpu_no_ipu": "по общедомовому счётчику тепла, по площади",
    "odpu_partial_ipu": "по общедомовому и квартирным счётчикам тепла",
    "odpu_all_ipu": "по общедомовому счётчику и квартирным приборам (распределителям)",
}
ZONES = {"single": "круглосуточно", "day": "день", "night": "ночь", "peak": "пик", "semi_peak": "полупик"}
UNITS = {
    "kWh": "кВт·ч",
    "kwh": "кВт·ч",
    "m3": "м³",
    "Gcal": "Гкал",
    "gcal": "Гкал",
    "m2": "м²",
    "RUB": "₽",
    "rub": "₽",
    "person": "чел.",
}
SCHEMES = {"single_rate": "одноставочный", "two_zone": "двухзонный", "three_zone": "трёхзонный"}
PAYMENT_SOURCES = {
    "sber": "Сбербанк",
    "vtb": "ВТБ",
    "post": "Почта России",
    "pochta": "Почта России",
    "gazprombank": "Газпромбанк",
    "alfa": "Альфа-Банк",
    "tinkoff": "Т-Банк",
    "tbank": "Т-Банк",
    "cash": "касса",
    "gosuslugi": "Госуслуги",
}


def _code(value: object) -> str:
    return str(getattr(value, "value", value))


def method_ru(code: object) -> str:
    """``normative_x1_5`` → «по нормативу ×1,5»; unknown codes as they are."""
    return METHODS.get(_code(code), _code(code))


def zone_ru(code: object) -> str:
    """``night`` → «ночь»; ``single`` → «круглосуточно»."""
    return ZONES.get(_code(code), _code(code))


def unit_ru(code: object) -> str:
    """``m3`` → «м³», ``kWh`` → «кВт·ч»."""
    return UNITS.get(_code(code), _code(code))


def scheme_ru(code: object) -> str:
    """``two_zone`` → «двухзонный»."""
    return SCHEMES.get(_code(code), _code(code))


_MONTHS = MONTHS_RU


def recalculation_reason_ru(corrects_period: str, method_before: str | None, method_after: str | None) -> str:
    """«Перерасчёт за январь 2026 (было: по среднему, стало: по счётчику)» from a recalculation line's
    codes (the stored ``reason`` is partly English)."""
    year, month = corrects_period.split("-")[:2]
    text = f"Перерасчёт за {_MONTHS[int(month) - 1]} {year}"
    if method_before and method_after and method_before != method_after:
        text += f" (было: {method_ru(method_before)}, стало: {method_ru(method_after)})"
    return text


def payment_source_ru(code: str) -> str:
    """``sber`` → «Сбербанк» (case-insensitive); unknown codes as they are."""
    return PAYMENT_SOURCES.get(code.strip().lower(), code)
