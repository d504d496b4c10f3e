"""Russian texts of the receipt: service and unit names, volume methods, zones, registers, numbers and dates.

Everything a resident reads is in Russian; codes stay English in the data. Numbers are printed the
Russian way: a space between thousands and a decimal comma (``12 013,00``).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from meterhub.billing.rules.periods import MONTHS_RU
from meterhub.billing.rules.rounding import strip_zeros

__all__ = [
    "MONTHS",
    "display_places",
    "display_volume",
    "method_title",
    "money",
    "number",
    "period_title",
    "register_title",
    "ru_date",
    "service_title",
    "unit_title",
    "volume_text",
    "zone_title",
]

SERVICES = {
    "electricity": "Электроснабжение",
    "cold_water": "Холодное водоснабжение",
    "hot_water": "Горячее водоснабжение",
    "wastewater": "Водоотведение",
    "heat": "Отопление",
    "maintenance": "Содержание жилого помещения",
    "capital_repair": "Взнос на капитальный ремонт",
}
UNITS = {"kWh": "кВт·ч", "m3": "куб. м", "m2": "кв. м", "Gcal": "Гкал"}
SERVICE_UNITS = {
    "electricity": "кВт·ч",
    "cold_water": "куб. м",
    "hot_water": "куб. м",
    "wastewater": "куб. м",
    "heat": "Гкал",
    "maintenance": "кв. м",
    "capital_repair": "кв. м",
}
METHODS = {
    "meter": "прибор учёта",
    "average": "среднемесячный",
    "normative": "норматив",
    "normative_x1_5": "норматив × 1,5",
    "area": "площадь",
    # common-property methods (ЕПД: способ определения объёма на СОИ)
    "actual_capped": "ОДПУ ≤ норматив",
    "actual": "ОДПУ",
    # heating (billing/heating): the house's method, by meaning
    "norm_no_odpu": "норматив",
    "norm_no_odpu_ipu": "ИПУ + норматив СОИ",
    "odpu_no_ipu": "ОДПУ по площади",
    "odpu_partial_ipu": "ОДПУ и ИПУ",
    "odpu_all_ipu": "ОДПУ и ИПУ/распределители",
}
ZONES = {"single": "", "day": "день", "night": "ночь", "peak": "пик", "semi_peak": "полупик"}
REGISTERS = {
    "energy_import_kwh": "общий",
    "energy_import_t1_kwh": "T1 (день)",
    "energy_import_t2_kwh": "T2 (ночь)",
    "energy_import_t3_kwh": "T3 (полупик)",
    "water_m3": "общий",
    "heat_gcal": "общий",
}
MONTHS = MONTHS_RU


def service_title(service: str, zone: str = "single") -> str:
    """``Электроснабжение (день)``; unknown codes are shown as they are."""
    name = SERVICES.get(service, service)
    label = ZONES.get(zone, zone)
    return f"{name} ({label})" if label else name


def unit_title(service: str, unit: str | None = None) -> str:
    if unit and unit in UNITS:
        return UNITS[unit]
    return SERVICE_UNITS.get(service, unit or "")


def method_title(method: str) -> str:
    return METHODS.get(method, method)


def zone_title(zone: str) -> str:
    return ZONES.get(zone, zone)


def register_title(register: str) -> str:
    return REGISTERS.get(register, register)


def period_title(year: int, month: int) -> str:
    """``январь 2026``."""
    return f"{MONTHS[month - 1]} {year}"


def ru_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return " ".join(parts)


def money(amount: Decimal) -> str:
    """``Decimal('12013')`` → ``12 013,00``; ``-5.5`` → ``-5,50`` (exact, no float)."""
    text = f"{amount.quantize(Decimal('0.01')):f}"
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return f"{sign}{_group(whole)},{frac}"


# Display precision of volumes [decimal places] by unit (code or Russian name). Receipts and screens round
# to it (half-up) for reading only; the exact volumes stay in the data and in every computation.
DISPLAY_PLACES = {
    "m3": 3, "куб. м": 3, "м³": 3,         # cubic metres to the litre
    "kWh": 2, "кВт·ч": 2,                 # kilowatt-hours to 10 Wh
    "Gcal": 4, "Гкал": 4,                 # gigacalories to 0.1 Mcal (heat meters show 3–4 decimals)
    "m2": 2, "кв. м": 2, "м²": 2,         # areas as in the cadastral passport
}  # fmt: skip
DEFAULT_DISPLAY_PLACES = 3


def display_places(unit: str | None) -> int:
    """Decimal places a volume in ``unit`` is shown with (3 for an unknown unit)."""
    return DISPLAY_PLACES.get(unit or "", DEFAULT_DISPLAY_PLACES)


def display_volume(value: Decimal, unit: str | None) -> Decimal:
    """``value`` rounded half-up to the unit's display places, trailing zeros dropped (for reading only)."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-display_places(unit)), rounding=ROUND_HALF_UP)
    return strip_zeros(rounded)


def volume_text(value: Decimal | None, unit: str | None) -> str:
    """A volume as residents read it: ``0,172`` (m³), ``1 250,5`` (kWh); ``—`` for None."""
    return "—" if value is None else number(display_volume(value, unit))


def number(value: Decimal | None, places: int | None = None) -> str:
    """A volume or tariff: trailing zeros dropped (or ``places`` decimals), decimal comma, thousands spaced.

    ``None`` prints as an em dash.
    """
    if value is None:
        return "—"
    value = value.quantize(Decimal(1).scaleb(-places)) if places is not None else strip_zeros(value)
    text = f"{value:f}"
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return f"{sign}{_group(whole)}" + (f",{frac}" if frac else "")
