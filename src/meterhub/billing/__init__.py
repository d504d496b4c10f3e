"""meterhub.billing — charges, money and receipts of personal accounts (лицевые счета).

The tree says what touches the database:

* :mod:`.rules` — the pure billing rules (tariffs, zones, volumes, ОДН/КРСОИ, charges, recalculations,
  penalties, payment allocation, heating, benefits): plain dataclasses in, charge lines out, no I/O.
* :mod:`.close` — the period close: loading a building's inputs, the close transaction, stored results
  and change markers, the runner over many buildings.
* :mod:`.money` — payments, the ledger, the penalty run, debtors, suppliers' money.
* :mod:`.receipts` — the ЕПД (model, PDF, payment QR, batches).
* :mod:`.imports` — import files (CSV/XLSX) of the billing domain and migrations from legacy systems.
* :mod:`.residents` — what the resident cabinet shows of billing (consumption charts, tariff advice,
  reading submissions).
* ``migrations/`` — the SQL schema of all of the above.

This package re-exports the engine's public names from :mod:`.rules` (importing it reads no database).
See docs/billing-engine.md, docs/billing-close.md and docs/billing-money.md.
"""

from meterhub.billing.rules.building import (
    BuildingCharges,
    BuildingInput,
    CommonPropertyReport,
    compute_building_charges,
)
from meterhub.billing.rules.charges import (
    AccountCharges,
    AccountInput,
    BillingRules,
    ChargeKind,
    ChargeLine,
    CommonPropertyShare,
    compute_account_charges,
)
from meterhub.billing.rules.common_property import (
    CommonPropertyInput,
    CommonPropertyMethod,
    CommonPropertyRounding,
    CommonPropertyRules,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.recalculation import RecalculationLine, recalculation_lines
from meterhub.billing.rules.rounding import round_money, to_decimal
from meterhub.billing.rules.tariffs import PriceBasis, Service, Tariff
from meterhub.billing.rules.volumes import (
    MeterPeriod,
    MeterStatus,
    ServiceConsumer,
    VolumeDecisionError,
    VolumeMethod,
    VolumeRules,
)
from meterhub.billing.rules.zones import (
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
