"""Buildings, their gateways and meters for engineers (read-only): state, backlog, registers, the latest
readings and verification dates. Data from the timeseries tables; engineers see assigned buildings only."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from meterhub.api.deps import BuildingId, Conn, CurrentUser, require_role
from meterhub.api.roles import Role
from meterhub.timeseries.resident_queries import latest_readings

router = APIRouter(tags=["buildings"])

_engineers = require_role(Role.ENGINEER, Role.ADMIN)
MeterKind = Literal["electricity", "cold_water", "hot_water", "heat"]
_SOURCES = {0: "gateway", 1: "manual", 2: "import", 3: "estimate"}


class BuildingOut(BaseModel):
    building_id: str
    address: str
    time_zone: str
    accounts: int
    meters: int
    gateways: int


class GatewayOut(BaseModel):
    gateway_id: str
    state: str = Field(description="online or offline (from the retained status / LWT)")
    software_version: str
    status_ts: datetime
    last_seen: datetime
    outbox_backlog: int = Field(description="readings waiting in the gateway's outbox")
    outbox_oldest: datetime | None
    devices: list[Any] = Field(description="per-device health as the gateway reported it")


class RegisterStateOut(BaseModel):
    name: str = Field(description="register name, e.g. energy_import_t1_kwh")
    unit: str
    cumulative: bool
    latest_value: str | None = Field(description="the latest stored value as reported")
    latest_at: datetime | None
    latest_source: str | None = Field(description="gateway, manual, import or estimate")
    latest_flagged: bool | None = Field(description="VEE flagged the latest value (excluded from volumes)")


class MeterStateOut(BaseModel):
    meter_id: str
    kind: str
    manufacturer: str
    serial: str
    model: str | None
    is_house_meter: bool = Field(description="ОДПУ (house meter) rather than an apartment meter (ИПУ)")
    premise_no: str | None = Field(description="premise it serves today (null: house meter or unlinked)")
    verification_due: date | None = Field(description="дата очередной поверки")
    verification_overdue: bool
    installed_on: date | None
    removed_on: date | None
    registers: list[RegisterStateOut]
    flags_last_7_days: int = Field(description="readings VEE flagged in the last 7 days")


@router.get(
    "/buildings",
    summary="Buildings the caller may see (engineers: assigned; accountants, admins: all; residents: theirs)",
    response_model=list[BuildingOut],
)
def list_buildings(user: CurrentUser, conn: Conn) -> list[BuildingOut]:
    only = None if user.role in (Role.ACCOUNTANT, Role.ADMIN) else sorted(user.building_ids)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            SELECT b.building_id, b.address, b.time_zone,
                   (SELECT count(*) FROM accounts a WHERE a.building_id = b.building_id) AS accounts,
                   (SELECT count(*) FROM meters m WHERE m.building_id = b.building_id) AS meters,
                   (SELECT count(*) FROM gateways g WHERE g.building_id = b.building_id) AS gateways
              FROM buildings b
             WHERE %(only)s::text[] IS NULL OR b.building_id = ANY(%(only)s::text[])
             ORDER BY b.building_id
            """,
            {"only": only},
        ).fetchall()
    return [BuildingOut(**r) for r in rows]


@router.get(
    "/buildings/{building_id}/gateways",
    summary="Gateways of a building: online/offline, last seen, outbox backlog, device health",
    response_model=list[GatewayOut],
    dependencies=[Depends(_engineers)],
)
def building_gateways(building_id: BuildingId, conn: Conn) -> list[GatewayOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            "SELECT gateway_id, state, software_version, status_ts, last_seen, outbox_backlog, "
            "outbox_oldest, devices FROM gateways WHERE building_id = %s ORDER BY gateway_id",
            (building_id,),
        ).fetchall()
    return [GatewayOut(**r) for r in rows]


@router.get(
    "/buildings/{building_id}/meters",
    summary="Meters of a building with registers, latest readings, VEE flags and verification dates",
    response_model=list[MeterStateOut],
    dependencies=[Depends(_engineers)],
)
def building_meters(
    building_id: BuildingId,
    conn: Conn,
    kind: Annotated[MeterKind | None, Query(description="only meters of this kind")] = None,
) -> list[MeterStateOut]:
    with conn.cursor(row_factory=dict_row) as cur:
        meters = cur.execute(
            """
            SELECT m.meter_id, m.kind, m.manufacturer, m.serial, m.model, m.is_house_meter,
                   m.verification_due,
                   COALESCE(m.verification_due < CURRENT_DATE, false) AS verification_overdue,
                   m.installed_on, m.removed_on,
                   (SELECT ml.premise_no FROM meter_links ml WHERE ml.meter_id = m.meter_id
                       AND ml.valid_from <= CURRENT_DATE
                       AND (ml.valid_to IS NULL OR ml.valid_to > CURRENT_DATE)
                     ORDER BY ml.valid_from DESC LIMIT 1) AS premise_no,
                   (SELECT count(*) FROM reading_flags f JOIN meter_registers r USING (series_id)
                     WHERE r.meter_id = m.meter_id AND f.ts > now() - interval '7 days') AS flags_last_7_days
              FROM meters m
             WHERE m.building_id = %s AND (%s::text IS NULL OR m.kind = %s)
             ORDER BY m.is_house_meter DESC, m.meter_id
            """,
            (building_id, kind, kind),
        ).fetchall()
        registers = cur.execute(
            "SELECT r.series_id, r.meter_id, r.register, r.unit, r.cumulative FROM meter_registers r "
            "JOIN meters m USING (meter_id) WHERE m.building_id = %s ORDER BY r.meter_id, r.register",
            (building_id,),
        ).fetchall()
    latest = latest_readings(conn, [r["series_id"] for r in registers])
    by_meter: dict[str, list[RegisterStateOut]] = {}
    for r in registers:
        last = latest.get(r["series_id"], (None, None))[0]
        by_meter.setdefault(r["meter_id"], []).append(
            RegisterStateOut(
                name=r["register"],
                unit=r["unit"],
                cumulative=r["cumulative"],
                latest_value=repr(last.value) if last else None,
                latest_at=last.ts if last else None,
                latest_source=_SOURCES.get(last.source, str(last.source)) if last else None,
                latest_flagged=last.flagged if last else None,
            )
        )
    return [MeterStateOut(**m, registers=by_meter.get(m["meter_id"], [])) for m in meters]
