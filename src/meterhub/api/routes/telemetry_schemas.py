"""Request and response models of the telemetry router (money as strings + kopecks, decimals as strings)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from meterhub.api.schemas import Money
from meterhub.billing.residents.consumption_series import Resolution, Unit
from meterhub.billing.rules.zones import ZoneScheme

__all__ = [
    "BuildingChartsOut",
    "ChartMonthOut",
    "ConsumptionOut",
    "MessageOut",
    "MeterOut",
    "MonthCostOut",
    "PointOut",
    "ReadingAccepted",
    "ReadingIn",
    "RegisterOut",
    "SchemeCostOut",
    "SeriesOut",
    "ServiceChartOut",
    "TariffAdviceOut",
    "UnavailableOut",
    "ZoneCostOut",
]


class RegisterOut(BaseModel):
    label: str = Field(description="what to submit: T (single register) or T1/T2/T3 (zones)")
    register_name: str = Field(validation_alias="register", serialization_alias="register")
    unit: str
    unit_name: str = Field(description="the unit in Russian (кВт·ч, м³, Гкал)")
    zone: str | None = Field(description="tariff zone of a multi-zone meter's register (day, night, peak, …)")
    zone_name: str | None = Field(description="the zone in Russian (день, ночь, пик, полупик)")
    latest_value: str | None = Field(description="latest stored counter value")
    latest_at: datetime | None
    latest_source: str | None = Field(description="gateway, manual, import or estimate")


class MeterOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meter_id": "E-2",
                    "service": "electricity",
                    "kind": "electricity",
                    "serial": "2",
                    "multi_zone": True,
                    "verification_due": "2030-01-01",
                    "verification_status": "ok",
                }
            ]
        }
    )

    meter_id: str
    service: str
    kind: str
    manufacturer: str
    serial: str
    model: str | None
    installed_on: date | None
    verification_due: date | None = Field(description="дата очередной поверки")
    verification_status: Literal["ok", "due_soon", "expired", "unknown"]
    multi_zone: bool
    tariff_scheme: str | None = Field(description="scheme of the tariff in force for the service")
    tariff_scheme_name: str | None = Field(description="the scheme in Russian (одноставочный, двухзонный, …)")
    registers: list[RegisterOut]
    accepts_readings: bool
    submission_window_last_day: int = Field(description="readings up to this day count for the month")


class PointOut(BaseModel):
    start: str = Field(description="local start of the bucket, ISO 8601 with offset")
    value: str = Field(description="volume [unit] or ₽ (two decimals), exact decimal string")
    quality: Literal["measured", "interpolated", "estimated", "missing"]
    zones: dict[str, str] = Field(description="value per tariff zone (single, day, night, peak, semi_peak)")
    missing_hours: int = Field(description="hours of the bucket without a billable volume")


class SeriesOut(BaseModel):
    start: date
    end: date
    points: list[PointOut]
    total: str


class ConsumptionOut(SeriesOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "meter_id": "E-1",
                    "time_zone": "Europe/Moscow",
                    "resolution": "day",
                    "unit": "volume",
                    "unit_label": "kWh",
                    "zones": ["day", "night"],
                    "start": "2026-01-01",
                    "end": "2026-01-02",
                    "points": [
                        {
                            "start": "2026-01-01T00:00:00+03:00",
                            "value": "12",
                            "quality": "measured",
                            "zones": {"day": "8", "night": "4"},
                            "missing_hours": 0,
                        }
                    ],
                    "total": "12",
                }
            ]
        }
    )

    meter_id: str
    time_zone: str
    resolution: Resolution
    unit: Unit
    unit_label: str = Field(description="unit code of the values: kWh, m3, Gcal or ₽")
    unit_name: str = Field(description="the same in Russian (кВт·ч, м³, Гкал, ₽)")
    zones: list[str]
    zone_names: dict[str, str] = Field(description="each zone code's Russian name")
    previous: SeriesOut | None = Field(
        None, description="the same local dates a year earlier (compare=last_year)"
    )
    previous_unavailable_ru: str | None = Field(
        None,
        description="compare=last_year in ₽ without last year's tariff: why `previous` is absent (Russian)",
        examples=["Сравнение с прошлым годом недоступно: нет тарифа для расчёта в рублях на 31.12.2023."],
    )


class ReadingIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"values": {"T1": "12545.67", "T2": "5532.10"}}]},
    )

    values: dict[Annotated[str, Field(max_length=8)], Annotated[str, Field(max_length=32)]] = Field(
        min_length=1,
        max_length=4,
        description="register label (T, T1, T2, T3) → counter value as a decimal string",
    )
    taken_at: datetime | None = Field(
        None, description="when the values were read (default now; without offset = building local time)"
    )
    confirm: bool = Field(False, description="confirm an unusually high consumption after a warning")


class MessageOut(BaseModel):
    code: str
    register_label: str | None = Field(validation_alias="register", serialization_alias="register")
    ru: str
    en: str


class ReadingAccepted(BaseModel):
    accepted: Literal[True] = True
    meter_id: str
    taken_at: datetime
    values: dict[str, str]
    consumption: dict[str, str] = Field(description="consumption since the previous reading per register")
    counts_for: str = Field(description="billing period YYYY-MM the reading is used in")
    next_bill_period: str
    next_bill_method: Literal["meter", "average", "normative"]
    warnings: list[MessageOut]
    submission_id: int


class ChartMonthOut(BaseModel):
    month: int
    volume: str | None = Field(description="house (ОДПУ) volume [unit]")
    source: Literal["close", "telemetry"] | None = Field(description="period close result or time series")
    per_m2: str | None = Field(description="volume / S_об [unit/m²]")
    per_person: str | None = Field(description="volume / residents [unit/person]")
    persons: int
    common_per_m2: str | None = Field(description="common-property (КРСОИ) volume per m² — the coefficient")
    common_share_percent: str | None = Field(description="common-property volume / house volume × 100")
    common_method: str | None
    previous_volume: str | None
    previous_per_m2: str | None
    previous_per_person: str | None
    previous_common_per_m2: str | None
    change_percent: str | None = Field(description="(this − last year) / last year × 100")


class ServiceChartOut(BaseModel):
    service: str
    unit: str
    unit_name: str = Field(description="the unit in Russian (кВт·ч, м³, Гкал)")
    months: list[ChartMonthOut]
    total: str | None
    previous_total: str | None = Field(description="last year's same months (where both years have data)")
    change_percent: str | None
    comparable_months: list[int] = Field(
        default_factory=list, description="months with a house volume in both years: what is compared"
    )
    comparable_total: str | None = Field(default=None, description="this year's volume, comparable_months")
    comparable_previous_total: str | None = Field(
        default=None, description="last year's volume over the same comparable_months"
    )
    comparable_change_percent: str | None = Field(
        default=None, description="(comparable_total − comparable_previous_total) / previous × 100, 1 decimal"
    )


class BuildingChartsOut(BaseModel):
    building_id: str
    year: int
    time_zone: str
    total_area_m2: str
    services: list[ServiceChartOut]


class ZoneCostOut(BaseModel):
    zone: str
    zone_name: str = Field(description="the zone in Russian")
    volume_kwh: str
    amount: Money


class MonthCostOut(BaseModel):
    period: str
    amount: Money


class SchemeCostOut(BaseModel):
    scheme: ZoneScheme
    name_ru: str
    total: Money
    zones: list[ZoneCostOut]
    months: list[MonthCostOut]


class UnavailableOut(BaseModel):
    scheme: ZoneScheme
    reason: str = Field(description="why the scheme cannot be priced (English, for staff and logs)")
    reason_ru: str = Field(description="the same for the resident, in Russian")


class TariffAdviceOut(BaseModel):
    account_no: str
    meter_ids: list[str]
    period_from: str
    period_to: str
    volume_kwh: str
    hours_present: int
    hours_expected: int
    complete: bool = Field(description="every hour of the 12 months has a billable volume")
    current_scheme: ZoneScheme | None
    cheapest: ZoneScheme | None
    baseline_scheme: ZoneScheme | None = Field(description="what the saving is measured against")
    saving: Money | None = Field(description="cost under the baseline − cost under the cheapest")
    options: list[SchemeCostOut]
    unavailable: list[UnavailableOut]
    message_ru: str
