"""Heating (отопление): pure rules (volumes, units, yearly correction); see billing-rules.md §9."""

from meterhub.billing.rules.heating.correction import (
    CorrectionMonth,
    YearlyCorrection,
    even_monthly_volume,
    odpu_average,
    odpu_average_limit,
    yearly_correction,
)
from meterhub.billing.rules.heating.units import GCAL_PER_UNIT, HeatUnitError, gcal_delta, to_gcal
from meterhub.billing.rules.heating.volumes import (
    HeatAllocation,
    HeatHouse,
    HeatingMethod,
    HeatingPolicy,
    HeatPremise,
    PaymentMode,
    PremiseHeat,
    PremiseHeatKind,
    UnmeteredRule,
    allocate_heat,
    display_gcal,
    heating_charge,
)

__all__ = [
    "GCAL_PER_UNIT",
    "CorrectionMonth",
    "HeatAllocation",
    "HeatHouse",
    "HeatPremise",
    "HeatUnitError",
    "HeatingMethod",
    "HeatingPolicy",
    "PaymentMode",
    "PremiseHeat",
    "PremiseHeatKind",
    "UnmeteredRule",
    "YearlyCorrection",
    "allocate_heat",
    "display_gcal",
    "even_monthly_volume",
    "gcal_delta",
    "heating_charge",
    "odpu_average",
    "odpu_average_limit",
    "to_gcal",
    "yearly_correction",
]
