"""Individual volume of one account and service for a period (индивидуальный объём, ПП 354 Прил. 2).

:func:`decide_individual_volume` is the decision procedure of billing-rules.md §1.7:

1. a valid meter reading for the period → the metered volume, per zone (formula 1; п. 38 for zones);
2. a meter without a valid reading (п. 59 cases «а» failed/lost/verification expired, «б» readings not
   submitted, «в» access refused, «г» electricity meter the supplier must replace), while the number of
   consecutive periods without a valid reading is below the limit (3 residential / 2 non-residential; «г»
   unlimited) and the meter has ≥ 3 months of history → the monthly average over the last ≤ 6 months,
   per zone (п. 59); after the limit the normative continues until readings come back (п. 60,
   Decision 8: a normative month never restarts the averaging);
3. residential premises without a meter (or with a failed one after the limit) where installation is
   obligatory and technically possible, for cold or hot water → ``n × N`` with the 1.5 coefficient
   (formula 4(1)); electricity after a repeat refusal of access → the same (п. 60(3));
4. otherwise → ``n × N`` (formula 4).

The coefficient is carried on the volume (``coefficient``), not multiplied into it: the *volume* is
``n × N`` (it enters wastewater and the Σ of individual volumes for common property unchanged) and the
*charge* is ``n × N × 1.5 × T`` with the excess over ``n × N × T`` shown separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from meterhub.billing.rules.rounding import engine_context, to_decimal
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.zones import HourlySeries, Zone

__all__ = [
    "WASTEWATER_FORMULA",
    "IndividualVolume",
    "MeterPeriod",
    "MeterStatus",
    "ServiceConsumer",
    "StatePart",
    "VolumeDecisionError",
    "VolumeMethod",
    "VolumePart",
    "VolumeRules",
    "average_zone_volumes",
    "decide_individual_volume",
    "wastewater_volume",
]


class VolumeMethod(StrEnum):
    """How a volume was determined (способ определения объёма, ЕПД раздел 3)."""

    METER = "meter"  # по прибору учёта
    AVERAGE = "average"  # по среднемесячному объёму
    NORMATIVE = "normative"  # по нормативу
    NORMATIVE_X1_5 = "normative_x1_5"  # по нормативу с повышающим коэффициентом
    AREA = "area"  # по площади (per-m² charges such as housing maintenance)


class MeterStatus(StrEnum):
    """State of an individual meter for the period (ПП 354 п. 59 cases)."""

    VALID = "valid"  # valid readings for the period
    FAILED = "failed"  # «а»: failed, lost, or verification interval expired
    NO_READINGS = "no_readings"  # «б»: readings not submitted on time
    ACCESS_REFUSED = "access_refused"  # «в»: consumer refused access for a check (п. 85 «д»)
    FAILED_SUPPLIER_DUTY = "failed_supplier_duty"  # «г»: electricity meter the supplier must replace


_CASE_LETTER = {
    MeterStatus.FAILED: "а",
    MeterStatus.NO_READINGS: "б",
    MeterStatus.ACCESS_REFUSED: "в",
    MeterStatus.FAILED_SUPPLIER_DUTY: "г",
}


class VolumeDecisionError(ValueError):
    """The inputs do not determine a volume; the message names the account, service and the fix."""


@dataclass(frozen=True)
class VolumeRules:
    """Configurable parameters of the individual volume procedure (defaults: billing-rules.md §1)."""

    average_window_months: int = 6
    """Averaging window [months]: the last this-many metered months (п. 59: "не менее 6 месяцев")."""
    average_min_months: int = 3
    """Fewer metered months than this → no average, normative instead (п. 59: "не менее 3 месяцев")."""
    average_limit_residential: Mapping[MeterStatus, int | None] = field(
        default_factory=lambda: {
            MeterStatus.FAILED: 3,
            MeterStatus.NO_READINGS: 3,
            MeterStatus.ACCESS_REFUSED: 3,
            MeterStatus.FAILED_SUPPLIER_DUTY: None,
        }
    )
    """Max consecutive averaged periods per case, residential premises (None = no limit) [V/M]."""
    average_limit_non_residential: Mapping[MeterStatus, int | None] = field(
        default_factory=lambda: {
            MeterStatus.FAILED: 2,
            MeterStatus.NO_READINGS: 2,
            MeterStatus.ACCESS_REFUSED: 2,
            MeterStatus.FAILED_SUPPLIER_DUTY: None,
        }
    )
    """Same for non-residential premises; «в» = 2 is our interpretation [I]."""
    coefficient: Decimal = Decimal("1.5")
    """Increasing coefficient of formula 4(1) (1.5 since 01.01.2017) [M]."""
    coefficient_services: frozenset[Service] = frozenset({Service.COLD_WATER, Service.HOT_WATER})
    """Services to which the coefficient applies for a missing meter (not electricity since 2020) [V]."""
    coefficient_after_failed_meter: bool = True
    """Apply ×1.5 after the average limit of case «а» (failed/expired meter not replaced) when the meter
    is obligatory and possible and not being replaced — the §1.7 oracle; the law is unclear [U]."""
    owners_when_nobody_resides: bool = True
    """Nobody registered or residing → count owners (ПП 354 п. 56(2), since 2017) [M]."""
    non_residential_normative: bool = True
    """A non-residential premise without a valid reading after its averaging limit is billed ``n × N``
    like the §1.7 oracle [I]; ``False`` raises instead (ПП 354 п. 43: the supplier's calculation method,
    which the engine does not model). The 1.5 coefficient (formula 4(1)) is never applied to it."""


@dataclass(frozen=True)
class StatePart:
    """One part ``[start, end)`` [local days] of the period with one state of the meter (ПП 354 п. 59 «а»:
    the average applies from the date of the event).

    A ``VALID`` part carries its metered volume: ``zone_volumes`` [unit] (register readings at the part's
    ends, e.g. the act's reading at the event) or ``hourly`` (the hours of the part only). Other statuses
    carry nothing: their volume is the average (or the normative after the limit) × days of the part /
    days of the period. ``source`` says where a metered part's readings come from (shown in the line).
    """

    start: date
    end: date
    status: MeterStatus
    zone_volumes: Mapping[Zone, Decimal] | None = None
    hourly: HourlySeries | None = None
    being_replaced: bool = False
    source: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class MeterPeriod:
    """An individual meter's data for one period, as the loader prepares it.

    ``zone_volumes``: deltas of the meter's registers for the period [unit] (per zone for a multi-tariff
    meter, ``Zone.SINGLE`` otherwise; see :func:`~meterhub.billing.rules.zones.zone_volumes_from_registers`).
    ``hourly``: the period's hourly series (used when ``zone_volumes`` is absent: zones by local hour,
    tariff changes split exactly). ``history``: previous metered months' zone volumes, oldest first
    (months billed by average or normative are *not* history). ``consecutive_average_periods``: the
    averaging count — how many immediately preceding periods were billed without a valid reading (by
    average, then by the normative after the limit). The normative after the limit continues until valid
    readings come back or the meter is repaired/replaced: a normative month never restarts the count
    (Decision 8, ПП 354 п. 60), so pass the whole run, not only its averaged months.
    """

    status: MeterStatus
    zone_volumes: Mapping[Zone, Decimal] | None = None
    hourly: HourlySeries | None = None
    history: Sequence[Mapping[Zone, Decimal]] = ()
    consecutive_average_periods: int = 0
    being_replaced: bool = False
    parts: tuple[StatePart, ...] = ()
    """The meter's states inside the period, in date order, covering it (empty: one state, ``status``);
    see :func:`~meterhub.billing.rules.state_split.split_by_meter_state`."""


@dataclass(frozen=True)
class ServiceConsumer:
    """One service of one account: its meter (``None`` = no individual meter) and normative.

    ``normative``: N_j [unit/person/month]. ``meter_obligatory_and_possible``: no act of technical
    impossibility and not emergency housing (decides formula 4(1)). ``repeat_access_refusal``: a repeat
    refusal-of-access act for an electricity meter (п. 60(3)).
    """

    service: Service
    meter: MeterPeriod | None = None
    normative: Decimal | None = None
    meter_obligatory_and_possible: bool = True
    repeat_access_refusal: bool = False


@dataclass(frozen=True)
class IndividualVolume:
    """The volume of one service of one account for a period, with how it was determined.

    ``zone_volumes`` [unit] are in the zones the source provides (meter registers, average per zone, or
    ``Zone.SINGLE``); when ``hourly`` is set the charge splits the series by each tariff's schedule and
    ``zone_volumes`` holds its total as ``Zone.SINGLE``. ``persons`` and ``normative`` are set for
    normative volumes, ``average_months`` for averages.
    """

    service: Service
    method: VolumeMethod
    formula: str
    zone_volumes: Mapping[Zone, Decimal]
    hourly: HourlySeries | None = None
    coefficient: Decimal = Decimal(1)
    persons: int | Decimal | None = None
    normative: Decimal | None = None
    average_months: int | None = None
    note: str = ""
    parts: tuple[VolumePart, ...] = ()
    """Set when the meter's state changed inside the period: each part's own volume (method, formula,
    coefficient), priced over its days; ``zone_volumes`` is then their Σ per zone and ``method`` the
    last part's."""

    @property
    def total(self) -> Decimal:
        """Σ over zones [unit] (without the coefficient)."""
        with engine_context():
            return sum(self.zone_volumes.values(), Decimal(0))


@dataclass(frozen=True)
class VolumePart:
    """The volume of the days ``[start, end)`` of a period split by the meter's state (:class:`StatePart`)."""

    start: date
    end: date
    volume: IndividualVolume


def average_zone_volumes(
    history: Sequence[Mapping[Zone, Decimal]], window_months: int = 6, min_months: int = 3
) -> dict[Zone, Decimal] | None:
    """Monthly average per zone [unit/month] over the last ``window_months`` metered months (п. 59).

    ``None`` when fewer than ``min_months`` months are available. If the months do not all have the same
    zones (e.g. a meter was replaced by another type) the totals are averaged as ``Zone.SINGLE``.
    """
    months = list(history)[-window_months:] if window_months > 0 else []
    if len(months) < min_months or not months:
        return None
    with engine_context():
        zone_sets = {frozenset(m) for m in months}
        if len(zone_sets) == 1:
            zones = list(months[-1])
            return {
                z: sum((to_decimal(m[z], "history volume") for m in months), Decimal(0)) / len(months)
                for z in zones
            }
        totals = [sum((to_decimal(v, "history volume") for v in m.values()), Decimal(0)) for m in months]
        return {Zone.SINGLE: sum(totals, Decimal(0)) / len(months)}


def _metered(consumer: ServiceConsumer, meter: MeterPeriod, account: str) -> IndividualVolume:
    if meter.zone_volumes is not None:
        zones = {
            Zone(z): to_decimal(v, f"account {account} {consumer.service} meter volume {z}")
            for z, v in meter.zone_volumes.items()
        }
        negative = [z for z, v in zones.items() if v < 0]
        if negative:
            raise VolumeDecisionError(
                f"account {account}, {consumer.service}: negative metered volume in zone(s) "
                f"{', '.join(negative)}; "
                "record the rollover or meter replacement in the time series instead"
            )
        return IndividualVolume(consumer.service, VolumeMethod.METER, _formula_meter(zones), zones)
    if meter.hourly is not None:
        total = meter.hourly.total()
        return IndividualVolume(
            consumer.service,
            VolumeMethod.METER,
            "ПП 354, Прил. 2, ф. 1; п. 38 (зоны суток)",
            {Zone.SINGLE: total},
            hourly=meter.hourly,
        )
    raise VolumeDecisionError(
        f"account {account}, {consumer.service}: meter status is VALID but neither zone_volumes nor an "
        "hourly series was given; pass the period's register deltas or hourly series, or set the status"
    )


def _formula_meter(zones: Mapping[Zone, Decimal]) -> str:
    return "ПП 354, Прил. 2, ф. 1" + ("" if set(zones) <= {Zone.SINGLE} else "; п. 38 (зоны суток)")


def decide_individual_volume(
    consumer: ServiceConsumer,
    *,
    account: str,
    residential: bool,
    residents: int | Decimal,
    owners: int,
    rules: VolumeRules | None = None,
) -> IndividualVolume:
    """The individual volume [unit] of one service of one account for a period (§1.7 procedure).

    ``residents``: n_i, permanently and temporarily residing persons (fractional when weighted by days
    of the period); ``owners``: number of owners (used
    when nobody resides, п. 56(2)). Raises :class:`VolumeDecisionError` when the inputs cannot determine
    a volume (no normative for a normative case; a non-residential premise without meter or average when
    ``rules.non_residential_normative`` is off).
    """
    rules = rules or VolumeRules()
    meter = consumer.meter
    service = consumer.service
    if meter is not None and meter.parts:
        from meterhub.billing.rules.state_split import split_by_meter_state  # it builds on this module

        return split_by_meter_state(
            consumer,
            account=account,
            residential=residential,
            residents=residents,
            owners=owners,
            rules=rules,
        )
    with engine_context():
        if meter is not None and meter.status is MeterStatus.VALID:
            return _metered(consumer, meter, account)
        note = ""
        if meter is not None:
            limits = rules.average_limit_residential if residential else rules.average_limit_non_residential
            limit = limits.get(meter.status)
            case = _CASE_LETTER[meter.status]
            if limit is None or meter.consecutive_average_periods < limit:
                average = average_zone_volumes(
                    meter.history, rules.average_window_months, rules.average_min_months
                )
                if average is not None:
                    months = min(len(meter.history), rules.average_window_months)
                    return IndividualVolume(
                        service,
                        VolumeMethod.AVERAGE,
                        f"ПП 354, п. 59 «{case}»",
                        average,
                        average_months=months,
                        note=f"average of {months} metered month(s), averaged period "
                        f"{meter.consecutive_average_periods + 1}" + (f" of {limit}" if limit else ""),
                    )
                note = (
                    f"meter has {len(meter.history)} metered month(s) < {rules.average_min_months}: normative"
                )
            else:
                note = (
                    f"{meter.consecutive_average_periods} averaged period(s) reached the limit {limit}: "
                    "normative (п. 60)"
                )
        if not residential and not rules.non_residential_normative:
            raise VolumeDecisionError(
                f"account {account}, {service}: non-residential premise without a valid meter reading"
                + (f" ({note})" if note else "")
                + "; ПП 354 п. 43 bills it by the supplier's calculation — give the meter's readings "
                "or an average"
            )
        if consumer.normative is None:
            raise VolumeDecisionError(
                f"account {account}, {service}: the volume falls back to the normative but no normative "
                "(unit/person/month) was given; load the regional normative for this service"
            )
        normative = to_decimal(consumer.normative, f"account {account} {service} normative")
        persons: int | Decimal = to_decimal(residents, f"account {account} residents")
        if persons <= 0 and rules.owners_when_nobody_resides:
            persons = owners
            note = (note + "; " if note else "") + "nobody resides: number of owners used (ПП 354, п. 56(2))"
        volume = normative * persons
        if residential and _coefficient_applies(consumer, rules):
            formula = "ПП 354, Прил. 2, ф. 4(1)"
            if service is Service.ELECTRICITY:
                formula = "ПП 354, п. 60(3); Прил. 2, ф. 4(1)"
            return IndividualVolume(
                service,
                VolumeMethod.NORMATIVE_X1_5,
                formula,
                {Zone.SINGLE: volume},
                coefficient=to_decimal(rules.coefficient, "coefficient"),
                persons=persons,
                normative=normative,
                note=note,
            )
        return IndividualVolume(
            service,
            VolumeMethod.NORMATIVE,
            "ПП 354, Прил. 2, ф. 4",
            {Zone.SINGLE: volume},
            persons=persons,
            normative=normative,
            note=note,
        )


def _coefficient_applies(consumer: ServiceConsumer, rules: VolumeRules) -> bool:
    meter = consumer.meter
    if consumer.service is Service.ELECTRICITY and consumer.repeat_access_refusal:
        return True
    if consumer.service not in rules.coefficient_services or not consumer.meter_obligatory_and_possible:
        return False
    if meter is None:
        return True
    return (
        meter.status is MeterStatus.FAILED
        and rules.coefficient_after_failed_meter
        and not meter.being_replaced
    )


_METHOD_ORDER = (VolumeMethod.METER, VolumeMethod.AVERAGE, VolumeMethod.NORMATIVE)
WASTEWATER_FORMULA = "ПП 354, Прил. 2, ф. 1/4: водоотведение = ХВС + ГВС"
"""The formula of a wastewater volume derived from its water components (how the close recognises it)."""


def wastewater_volume(components: Sequence[IndividualVolume]) -> IndividualVolume:
    """Wastewater (водоотведение) without its own meter = Σ cold + hot water volumes [m³] (ПП 354 Прил. 2).

    The coefficient of formula 4(1) does not carry over (it is never applied to wastewater). The method
    is the weakest of the components (meter < average < normative).
    """
    if not components:
        raise VolumeDecisionError("wastewater volume needs at least one cold or hot water volume")
    with engine_context():
        total = sum((c.total for c in components), Decimal(0))
    ranks = [
        _METHOD_ORDER.index(VolumeMethod.NORMATIVE if c.method is VolumeMethod.NORMATIVE_X1_5 else c.method)
        for c in components
    ]
    method = _METHOD_ORDER[max(ranks)]
    parts = " + ".join(f"{c.service} {c.method}" for c in components)
    return IndividualVolume(
        Service.WASTEWATER,
        method,
        WASTEWATER_FORMULA,
        {Zone.SINGLE: total},
        note=f"sum of {parts}",
    )
