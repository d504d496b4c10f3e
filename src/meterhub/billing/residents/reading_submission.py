"""Validation of a resident's meter reading submission (передача показаний) and the method of the next bill.

Pure: the caller loads the meter's state (previous readings, counter events, history, verification date)
and passes the submitted values; :func:`validate_submission` says whether the reading is accepted, with
warnings and errors that name the register and say what to do, in Russian for the resident and English
for logs. Rules (billing-rules.md §1.2, §1.5, "Decisions"; [I] marks our interpretation):

1. **Values**: one value per register label the meter has (``T1``/``T2``/``T3`` for a multi-zone meter, ``T``
   for a single register); non-negative decimals with at most :attr:`SubmissionRules.max_decimals`
   decimals, below ``10^register_digits`` when the counter has a known number of digits.
2. **Time**: ``taken_at`` not in the future (beyond :attr:`~SubmissionRules.max_future`), not older than
   :attr:`~SubmissionRules.max_age`, and after the latest stored reading of each register.
3. **Not lower than the previous reading** unless a replacement or counter reset is recorded after it
   (``register_events`` installation/reset) — a counter rollover of a meter with known digits is
   accepted as a wrap when the wrapped consumption is physically possible (formula of §1.2: ``V = (end −
   start) mod 10^digits``).
4. **Plausibility**: the consumption since the previous reading may not exceed the physical maximum
   (VEE ``max_per_hour`` × hours) — an error; above :attr:`~SubmissionRules.plausibility_factor` × the
   typical daily consumption from history (at least :attr:`~SubmissionRules.plausibility_floor_per_day`)
   it is refused unless the resident confirms (``confirm=True``), then accepted with a warning [I].
5. **Verification (поверка)**: a meter whose verification date has passed does not accept readings
   (ПП 354 п. 59 «а»: billed by average, then normative); within
   :attr:`~SubmissionRules.verification_warning_days` a warning.
6. **Submission window**: readings taken up to day :attr:`~SubmissionRules.window_last_day` (25, decision
   of billing-rules.md §1.2) of the local month count for that month; later ones for the next month, with
   a warning.

:func:`next_bill_method` then applies the individual volume procedure
(:func:`~meterhub.billing.rules.volumes.decide_individual_volume`, billing-rules.md §1.7) to the meter's
state for
the billing period of the next bill: ``meter`` / ``average`` / ``normative``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.volumes import (
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    VolumeDecisionError,
    VolumeMethod,
    decide_individual_volume,
)
from meterhub.billing.rules.zones import Zone

__all__ = [
    "Message",
    "PreviousReading",
    "RegisterState",
    "SubmissionMeter",
    "SubmissionResult",
    "SubmissionRules",
    "next_bill_method",
    "validate_submission",
]


@dataclass(frozen=True)
class SubmissionRules:
    """Configurable parameters of the checks (defaults: billing-rules.md; [I] = our choice)."""

    window_last_day: int = 25
    """Readings taken up to this local day of the month count for the month (§1.2: "by the 25th")."""
    max_future: timedelta = timedelta(minutes=10)
    """Clock tolerance for ``taken_at`` ahead of the server [I]."""
    max_age: timedelta = timedelta(days=3)
    """A reading may be dated at most this far back (readings are taken when submitted) [I]."""
    max_decimals: int = 3
    """Decimals a resident can read off a household counter (kWh to 0.1, m³ to 0.001) [I]."""
    default_digits: int = 9
    """Integer digits of a counter whose ``register_digits`` is unknown (household counters show 5–8) [I]."""
    plausibility_factor: Decimal = Decimal(3)
    """Consumption above this × the typical daily consumption × days needs confirmation [I]."""
    plausibility_floor_per_day: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "electricity": Decimal(30),  # kWh/day
            "cold_water": Decimal("1.5"),  # m³/day
            "hot_water": Decimal("1.0"),
            "wastewater": Decimal("2.5"),
        }
    )
    """Per service: never ask for confirmation below this daily consumption [unit/day] [I]."""
    verification_warning_days: int = 30
    """Warn this many days before the verification date [I]."""


@dataclass(frozen=True)
class PreviousReading:
    value: Decimal  # counter as reported [unit]
    ts: datetime  # UTC
    source: str = "gateway"


@dataclass(frozen=True)
class RegisterState:
    """One register a resident submits: its label (``T``, ``T1``…), register name, the latest stored
    reading (``latest`` — any, to order readings) and the latest valid one (``previous`` — the base of the
    comparison), whether a replacement/reset is recorded after ``previous``, the VEE maximum [unit/h], and
    the typical daily consumption [unit/day] from history (None: too little history)."""

    label: str
    register: str
    previous: PreviousReading | None = None
    latest_ts: datetime | None = None
    replaced_after_previous: bool = False
    max_per_hour: Decimal | None = None
    typical_per_day: Decimal | None = None


@dataclass(frozen=True)
class SubmissionMeter:
    meter_id: str
    service: str
    registers: Sequence[RegisterState]
    verification_due: date | None = None
    removed_on: date | None = None
    register_digits: int | None = None
    multiplier: Decimal = Decimal(1)


@dataclass(frozen=True)
class Message:
    """A check's outcome for the resident (Russian) and logs (English); ``register``: the one concerned."""

    code: str
    ru: str
    en: str
    register: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "register": self.register, "ru": self.ru, "en": self.en}


@dataclass(frozen=True)
class SubmissionResult:
    accepted: bool
    values: dict[str, Decimal]  # label → value, when accepted
    consumption: dict[str, Decimal]  # label → consumption since the previous reading [unit]
    errors: list[Message]
    warnings: list[Message]
    counts_for: BillingPeriod | None  # the billing period the reading is used in
    taken_at: datetime


def _parse(
    label: str, raw: object, rules: SubmissionRules, digits: int | None
) -> tuple[Decimal | None, Message | None]:
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        return None, Message(
            "not_a_number",
            f'Показание {label}: ожидается число в виде строки, например "12345.6".',
            f'{label}: expected a decimal number as a string, e.g. "12345.6"',
            label,
        )
    try:
        value = Decimal(raw.strip().replace(",", ".")) if isinstance(raw, str) else Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        return None, Message(
            "not_a_number",
            f"Показание {label}: «{raw}» не является числом.",
            f"{label}: {raw!r} is not a decimal number",
            label,
        )
    if value < 0:
        return None, Message(
            "negative", f"Показание {label} не может быть отрицательным.", f"{label}: negative value", label
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > rules.max_decimals:
        return None, Message(
            "too_many_decimals",
            f"Показание {label}: не больше {rules.max_decimals} знаков после запятой.",
            f"{label}: at most {rules.max_decimals} decimals",
            label,
        )
    if digits is not None and value >= Decimal(10) ** digits:
        return None, Message(
            "too_many_digits",
            f"Показание {label}: счётчик показывает не больше {digits} цифр до запятой.",
            f"{label}: the counter has {digits} integer digits; {value} does not fit",
            label,
        )
    return value, None


# Russian texts: the register as residents know it, numbers with a decimal comma at the unit's display
# precision (m³ 3 decimals, kWh 2, Gcal 4) and the unit — never "9274.224000000".
_SERVICE_UNITS = {
    "electricity": "кВт·ч",
    "cold_water": "куб. м",
    "hot_water": "куб. м",
    "wastewater": "куб. м",
    "heat": "Гкал",
}


def _scale_ru(label: str) -> str:
    """«Показание» for a one-register meter, «Тариф T1» for a zone register."""
    return "Показание" if label in ("", "T") else f"Тариф {label}"


_PLACES = {"кВт·ч": 2, "куб. м": 3, "Гкал": 4}


def _reading_ru(label: str) -> str:
    """«Показание» (one register) or «Тариф T1: показание» — the subject of a sentence about a value."""
    return "Показание" if label in ("", "T") else f"Тариф {label}: показание"


def _ru(value: Decimal, unit: str) -> str:
    """``Decimal("9274.224000000")``, ``"куб. м"`` → ``9 274,224 куб. м`` (half-up at the unit's places)."""
    places = Decimal(1).scaleb(-_PLACES.get(unit, 3))
    text = f"{value.quantize(places, rounding=ROUND_HALF_UP).normalize():f}"
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    head = len(whole) % 3 or 3
    grouped = " ".join([whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)])
    number = f"{sign}{grouped}" + (f",{frac}" if frac else "")
    return f"{number}\u00a0{unit}" if unit else number


def validate_submission(
    meter: SubmissionMeter,
    values: Mapping[str, object],
    *,
    taken_at: datetime,
    now: datetime,
    tz: ZoneInfo | str,
    rules: SubmissionRules | None = None,
    confirm: bool = False,
) -> SubmissionResult:
    """Check a submission (see the module docstring); never raises for bad input — errors are returned."""
    rules = rules or SubmissionRules()
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    errors: list[Message] = []
    warnings: list[Message] = []
    if taken_at.tzinfo is None:
        taken_at = taken_at.replace(tzinfo=zone)
    taken_at = taken_at.astimezone(UTC)
    local_day = taken_at.astimezone(zone).date()

    by_label = {r.label: r for r in meter.registers}
    unknown = sorted(set(values) - set(by_label))
    if unknown:
        known = ", ".join(by_label)
        errors.append(
            Message(
                "unknown_register",
                f"У счётчика {meter.meter_id} нет шкал {', '.join(unknown)}; передайте {known}.",
                f"meter {meter.meter_id} has no register(s) {', '.join(unknown)}; send {known}",
            )
        )
    missing = [label for label in by_label if label not in values]
    if missing:
        errors.append(
            Message(
                "missing_register",
                f"Передайте показания всех шкал счётчика: не хватает {', '.join(missing)}.",
                f"values for every register of the meter are required; missing {', '.join(missing)}",
            )
        )

    # time
    if taken_at > now + rules.max_future:
        errors.append(
            Message(
                "future",
                "Дата снятия показаний в будущем; проверьте дату и время.",
                f"taken_at {taken_at.isoformat()} is in the future (server time {now.isoformat()})",
            )
        )
    elif taken_at < now - rules.max_age:
        errors.append(
            Message(
                "too_old",
                f"Показания можно передать не позднее {rules.max_age.days} дн. после снятия.",
                f"taken_at {taken_at.isoformat()} is older than {rules.max_age}; submit current readings",
            )
        )

    # meter state
    if meter.removed_on is not None and meter.removed_on <= local_day:
        errors.append(
            Message(
                "meter_removed",
                f"Счётчик {meter.meter_id} снят {meter.removed_on:%d.%m.%Y}; показания не принимаются.",
                f"meter {meter.meter_id} was removed on {meter.removed_on}",
            )
        )
    if meter.verification_due is not None:
        if meter.verification_due <= local_day:
            errors.append(
                Message(
                    "verification_expired",
                    f"Срок поверки счётчика {meter.meter_id} истёк {meter.verification_due:%d.%m.%Y}: "
                    "показания не принимаются, начисление — по среднему, затем по нормативу "
                    "(ПП 354, п. 59). Поверьте или замените счётчик.",
                    f"verification of meter {meter.meter_id} was due {meter.verification_due}; readings are "
                    "not accepted (billed by average, then normative); verify or replace the meter",
                )
            )
        elif meter.verification_due <= local_day + timedelta(days=rules.verification_warning_days):
            warnings.append(
                Message(
                    "verification_due_soon",
                    f"Срок поверки счётчика истекает {meter.verification_due:%d.%m.%Y}; "
                    "запланируйте поверку.",
                    f"verification of meter {meter.meter_id} is due {meter.verification_due}",
                )
            )

    parsed: dict[str, Decimal] = {}
    consumption: dict[str, Decimal] = {}
    unit = _SERVICE_UNITS.get(str(meter.service), "")
    floor = rules.plausibility_floor_per_day.get(meter.service)
    for label, raw in values.items():
        state = by_label.get(label)
        if state is None:
            continue
        value, problem = _parse(label, raw, rules, meter.register_digits or rules.default_digits)
        if problem is not None:
            errors.append(problem)
            continue
        assert value is not None
        parsed[label] = value
        if state.latest_ts is not None and taken_at <= state.latest_ts:
            errors.append(
                Message(
                    "not_after_previous",
                    f"{_scale_ru(label)}: уже есть показание от "
                    f"{state.latest_ts.astimezone(zone):%d.%m.%Y %H:%M}; "
                    "передайте показания на текущую дату.",
                    f"{label}: a reading at {state.latest_ts.isoformat()} is already stored; "
                    "taken_at must be later",
                    label,
                )
            )
            continue
        prev = state.previous
        if prev is None or state.replaced_after_previous:
            continue
        hours = max(Decimal((taken_at - prev.ts).total_seconds()) / 3600, Decimal(1))
        delta = value - prev.value
        wrapped = False
        if delta < 0:
            if meter.register_digits is not None:
                wrap = delta + Decimal(10) ** meter.register_digits
                limit = state.max_per_hour * hours if state.max_per_hour is not None else None
                if limit is None or wrap * meter.multiplier <= limit:
                    delta, wrapped = wrap, True
            if not wrapped:
                errors.append(
                    Message(
                        "lower_than_previous",
                        f"{_reading_ru(label)} {_ru(value, unit)} меньше предыдущего "
                        f"{_ru(prev.value, unit)} "
                        f"({prev.ts.astimezone(zone):%d.%m.%Y}). Проверьте цифры; если счётчик заменён, "
                        "сообщите в управляющую компанию.",
                        f"{label}: {value} is lower than the previous reading {prev.value} at "
                        f"{prev.ts.isoformat()} and no replacement or reset is recorded",
                        label,
                    )
                )
                continue
            warnings.append(
                Message(
                    "rollover",
                    f"{_scale_ru(label)}: счётчик перешёл через ноль; расход {_ru(delta, unit)}.",
                    f"{label}: counter rollover at 10^{meter.register_digits}; consumption {delta}",
                    label,
                )
            )
        volume = delta * meter.multiplier
        consumption[label] = volume
        if state.max_per_hour is not None and volume > state.max_per_hour * hours:
            errors.append(
                Message(
                    "implausible",
                    f"{_scale_ru(label)}: расход {_ru(volume, unit)} с {prev.ts.astimezone(zone):%d.%m.%Y} "
                    "физически невозможен для этого счётчика. Проверьте цифры.",
                    f"{label}: consumption {volume} in {hours:.0f} h exceeds the physical maximum "
                    f"{state.max_per_hour}/h",
                    label,
                )
            )
            continue
        days = hours / 24
        typical = state.typical_per_day
        per_day = max(
            typical * rules.plausibility_factor if typical is not None else Decimal(0), floor or Decimal(0)
        )
        if per_day > 0 and volume > per_day * max(days, Decimal(1)):
            message = Message(
                "unusually_high",
                f"{_scale_ru(label)}: расход {_ru(volume, unit)} намного больше обычного"
                + (f" (около {_ru(typical, unit)} в сутки)" if typical is not None else "")
                + ". Проверьте цифры и подтвердите, если всё верно.",
                f"{label}: consumption {volume} over {days:.1f} days is above {per_day}/day; resubmit with "
                "confirm=true if it is right",
                label,
            )
            (warnings if confirm else errors).append(message)

    counts_for = None
    if not errors:
        period = BillingPeriod(local_day.year, local_day.month)
        if local_day.day > rules.window_last_day:
            counts_for = period.next()
            warnings.append(
                Message(
                    "after_window",
                    f"Показания переданы после {rules.window_last_day}-го числа и будут учтены в расчёте "
                    f"за {counts_for.month:02d}.{counts_for.year}.",
                    f"submitted after day {rules.window_last_day}: used in period {counts_for}",
                )
            )
        else:
            counts_for = period
    accepted = not errors
    return SubmissionResult(
        accepted=accepted,
        values=parsed if accepted else {},
        consumption=consumption if accepted else {},
        errors=errors,
        warnings=warnings,
        counts_for=counts_for,
        taken_at=taken_at,
    )


def next_bill_method(
    *,
    service: str,
    period: BillingPeriod,
    has_reading_for_period: bool,
    verification_due: date | None,
    history: Sequence[Mapping[Zone, Decimal]] = (),
    consecutive_average_periods: int = 0,
    residential: bool = True,
) -> VolumeMethod:
    """How the bill for ``period`` will determine this meter's volume (billing-rules.md §1.7): ``meter``
    when the meter is in verification through the period and has a reading for it; else the average
    (п. 59 «а» expired / «б» no readings, within the limit and with ≥ 3 metered months of ``history``);
    else ``normative``. ``normative_x1_5`` is reported as ``normative`` (the method; the coefficient is a
    separate matter of the bill)."""
    if verification_due is not None and verification_due < period.end_day:
        status = MeterStatus.FAILED
    elif has_reading_for_period:
        return VolumeMethod.METER
    else:
        status = MeterStatus.NO_READINGS
    try:
        service_enum = Service(service)
    except ValueError:
        service_enum = Service.COLD_WATER
    consumer = ServiceConsumer(
        service_enum,
        MeterPeriod(status, history=tuple(history), consecutive_average_periods=consecutive_average_periods),
        # only the method is wanted, not the volume: a zero normative keeps the procedure from refusing
        normative=Decimal(0),
    )
    try:
        volume = decide_individual_volume(
            consumer, account="-", residential=residential, residents=1, owners=1
        )
    except VolumeDecisionError:
        return VolumeMethod.NORMATIVE
    if volume.method is VolumeMethod.NORMATIVE_X1_5:
        return VolumeMethod.NORMATIVE
    return volume.method
