"""The meter registry: meters, their registers (series), and explicit counter events.

A replacement (замена прибора учёта) is recorded, never inferred: the old meter gets a ``removal``
event with its final readings, the new meter an ``installation`` event with its initial readings,
and the hourly series of both are recomputed from there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg

from meterhub.core.readings import make_meter_id
from meterhub.core.registers import MeterKind, register_spec
from meterhub.timeseries.intervals import EventKind


@dataclass(frozen=True)
class RegisterInfo:
    """A register of a meter; unit and cumulative default to the core catalogue entry."""

    register: str
    unit: str | None = None
    cumulative: bool | None = None
    max_per_hour: float | None = None  # physical maximum [unit/h]; None → the kind's default (vee_limits)

    def resolved(self) -> tuple[str, str, bool, float | None]:
        spec = None
        if self.unit is None or self.cumulative is None:
            spec = register_spec(self.register)
        unit = self.unit if self.unit is not None else spec.unit.value  # type: ignore[union-attr]
        cumulative = self.cumulative if self.cumulative is not None else spec.cumulative  # type: ignore[union-attr]
        return self.register, unit, cumulative, self.max_per_hour


@dataclass(frozen=True)
class MeterInfo:
    """A physical meter. ``meter_id`` defaults to ``make_meter_id(manufacturer, serial)``."""

    kind: MeterKind
    manufacturer: str
    serial: str
    registers: tuple[RegisterInfo, ...] = ()
    model: str | None = None
    building_id: str | None = None
    is_house_meter: bool = False
    multiplier: Decimal = Decimal(1)
    register_digits: int | None = None
    installed_on: date | None = None
    removed_on: date | None = None
    verification_due: date | None = None
    replaces_meter_id: str | None = None
    meter_id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.meter_id:
            object.__setattr__(self, "meter_id", make_meter_id(self.manufacturer, self.serial))


def register_meter(conn: psycopg.Connection, meter: MeterInfo) -> dict[str, int]:
    """Insert or update a meter and its registers; return register name → series_id."""
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO meters (meter_id, kind, manufacturer, serial, model, building_id, is_house_meter,
                                multiplier, register_digits, installed_on, removed_on, verification_due,
                                replaces_meter_id)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            ON CONFLICT (meter_id) DO UPDATE SET
                kind = EXCLUDED.kind, model = EXCLUDED.model, building_id = EXCLUDED.building_id,
                is_house_meter = EXCLUDED.is_house_meter, multiplier = EXCLUDED.multiplier,
                register_digits = EXCLUDED.register_digits, installed_on = EXCLUDED.installed_on,
                removed_on = EXCLUDED.removed_on, verification_due = EXCLUDED.verification_due,
                replaces_meter_id = EXCLUDED.replaces_meter_id
            """,
            (
                meter.meter_id,
                meter.kind.value,
                meter.manufacturer,
                meter.serial,
                meter.model,
                meter.building_id,
                meter.is_house_meter,
                meter.multiplier,
                meter.register_digits,
                meter.installed_on,
                meter.removed_on,
                meter.verification_due,
                meter.replaces_meter_id,
            ),
        )
        ids: dict[str, int] = {}
        for reg in meter.registers:
            name, unit, cumulative, max_per_hour = reg.resolved()
            row = conn.execute(
                """
                INSERT INTO meter_registers (meter_id, register, unit, cumulative, max_per_hour)
                VALUES (%s, %s, %s, %s, %s)
                ON CONFLICT (meter_id, register) DO UPDATE SET
                    unit = EXCLUDED.unit, cumulative = EXCLUDED.cumulative,
                    max_per_hour = EXCLUDED.max_per_hour
                RETURNING series_id
                """,
                (meter.meter_id, name, unit, cumulative, max_per_hour),
            ).fetchone()
            assert row is not None
            ids[name] = row[0]
    return ids


def register_meters(conn: psycopg.Connection, meters: Iterable[MeterInfo]) -> dict[str, dict[str, int]]:
    """Register many meters; meter_id → register → series_id."""
    return {m.meter_id: register_meter(conn, m) for m in meters}


def series_id(conn: psycopg.Connection, meter_id: str, register: str) -> int:
    row = conn.execute(
        "SELECT series_id FROM meter_registers WHERE meter_id = %s AND register = %s", (meter_id, register)
    ).fetchone()
    if row is None:
        raise KeyError(f"meter {meter_id!r} has no register {register!r}; register it first")
    return int(row[0])


def _require_aware(ts: datetime) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"event time {ts!r} has no time zone; pass a timezone-aware datetime (UTC)")


def _mark_dirty(conn: psycopg.Connection, sid: int, ts: datetime) -> None:
    conn.execute(
        """
        INSERT INTO series_dirty (series_id, from_ts, to_ts) VALUES (%s, %s, %s)
        ON CONFLICT (series_id) DO UPDATE SET from_ts = least(series_dirty.from_ts, EXCLUDED.from_ts),
                                              to_ts = greatest(series_dirty.to_ts, EXCLUDED.to_ts)
        """,
        (sid, ts, ts),
    )


def record_event(
    conn: psycopg.Connection,
    meter_id: str,
    register: str,
    ts: datetime,
    kind: EventKind,
    *,
    value_before: float | None = None,
    value_after: float | None = None,
    note: str | None = None,
) -> None:
    """Record a counter event and mark the series for recomputation from it."""
    _require_aware(ts)
    if kind in (EventKind.RESET, EventKind.REMOVAL) and value_before is None:
        raise ValueError(f"a {kind} event needs value_before (the register value just before {ts})")
    if kind in (EventKind.RESET, EventKind.INSTALLATION) and value_after is None:
        raise ValueError(f"a {kind} event needs value_after (the register value just after {ts})")
    sid = series_id(conn, meter_id, register)
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO register_events (series_id, ts, kind, value_before, value_after, note)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (series_id, ts, kind) DO UPDATE SET
                value_before = EXCLUDED.value_before, value_after = EXCLUDED.value_after, note = EXCLUDED.note
            """,
            (sid, ts, kind.value, value_before, value_after, note),
        )
        _mark_dirty(conn, sid, ts)


def record_replacement(
    conn: psycopg.Connection,
    old_meter_id: str,
    new_meter: MeterInfo,
    ts: datetime,
    *,
    final_values: Mapping[str, float],
    initial_values: Mapping[str, float],
    note: str = "meter replacement",
) -> dict[str, int]:
    """Replace a meter at ``ts``: removal on the old one, installation of the new one.

    ``final_values`` / ``initial_values`` map register names to the old meter's last and the new
    meter's first register values (from the replacement act, акт замены).
    """
    _require_aware(ts)
    missing = set(final_values) ^ set(initial_values)
    if missing:
        raise ValueError(
            f"final and initial values must name the same registers; differ in {sorted(missing)}"
        )
    with conn.transaction():
        new_meter = MeterInfo(
            **{
                **new_meter.__dict__,
                "replaces_meter_id": old_meter_id,
                "installed_on": new_meter.installed_on or ts.date(),
            }
        )
        ids = register_meter(conn, new_meter)
        conn.execute("UPDATE meters SET removed_on = %s WHERE meter_id = %s", (ts.date(), old_meter_id))
        for reg, value in final_values.items():
            record_event(conn, old_meter_id, reg, ts, EventKind.REMOVAL, value_before=value, note=note)
        for reg, value in initial_values.items():
            record_event(
                conn, new_meter.meter_id, reg, ts, EventKind.INSTALLATION, value_after=value, note=note
            )
    return ids
