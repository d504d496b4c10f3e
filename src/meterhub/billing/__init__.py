"""meterhub.billing — the pure tariff engine (no database, no I/O).

Plain dataclasses in (accounts, meters' period data, tariffs, normatives, building areas), itemised
charge lines out. See ``docs/billing-engine.md``. The period close, the domain tables and the import
build on this package.
"""

from meterhub.billing.building import (
    BuildingCharges,
    BuildingInput,
    CommonPropertyReport,
    compute_building_charges,
)
from meterhub.billing.charges import (
    AccountCharges,
    AccountInput,
    BillingRules,
    ChargeKind,
    ChargeLine,
    CommonPropertyShare,
    compute_account_charges,
)
from meterhub.billing.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    CommonPropertyRounding,
    CommonPropertyRules,
)
from meterhub.billing.money import round_money, to_decimal
from meterhub.billing.periods import BillingPeriod
from meterhub.billing.recalculation import RecalculationLine, recalculation_lines
from meterhub.billing.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.volumes import (
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    VolumeDecisionError,
    VolumeMethod,
    VolumeRules,
)
from meterhub.billing.zones import (
    THREE_ZONE_SCHEDULE,
    TWO_ZONE_SCHEDULE,
    HourlySeries,
    Zone,
    ZoneInterval,
    ZoneSchedule,
    ZoneScheme,
)

__all__ = [
    "THREE_ZONE_SCHEDULE",
    "TWO_ZONE_SCHEDULE",
    "AccountCharges",
    "AccountInput",
    "BillingPeriod",
    "BillingRules",
    "BuildingCharges",
    "BuildingInput",
    "ChargeKind",
    "ChargeLine",
    "CommonPropertyInput",
    "CommonPropertyMethod",
    "CommonPropertyReport",
    "CommonPropertyRounding",
    "CommonPropertyRules",
    "CommonPropertyShare",
    "HourlySeries",
    "MeterPeriod",
    "MeterStatus",
    "PriceBasis",
    "RecalculationLine",
    "Service",
    "ServiceConsumer",
    "Tariff",
    "VolumeDecisionError",
    "VolumeMethod",
    "VolumeRules",
    "Zone",
    "ZoneInterval",
    "ZoneSchedule",
    "ZoneScheme",
    "compute_account_charges",
    "compute_building_charges",
    "recalculation_lines",
    "round_money",
    "to_decimal",
]
