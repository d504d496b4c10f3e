"""Reading submissions of the resident API, database side: the state the checks need (previous readings,
replacements recorded since, typical daily consumption) and the write of an accepted submission as manual
readings through the ingest path plus its audit row. The checks themselves are pure, in
:mod:`meterhub.billing.residents.reading_submission`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg

from meterhub.billing.close.loader import readings_window_end
from meterhub.billing.close.results_store import volume_history
from meterhub.billing.residents.loaders import AccountContext, AccountMeter
from meterhub.billing.residents.reading_submission import (
    PreviousReading,
    RegisterState,
    SubmissionMeter,
    SubmissionResult,
    next_bill_method,
)
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.volumes import VolumeMethod
from meterhub.core.readings import Reading, ReadingSource
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.resident_queries import (
    first_valid_reading_since,
    register_events_since,
    valid_readings_between,
)

__all__ = ["StoredSubmission", "SubmissionRejected", "submission_meter", "submit_reading"]


def submission_meter(conn: psycopg.Connection, meter: AccountMeter, now: datetime) -> SubmissionMeter:
    """The state the checks need: previous readings, replacements since, typical daily consumption."""
    series = [r.series_id for r in meter.registers]
    oldest_prev = min((r.latest_valid_ts for r in meter.registers if r.latest_valid_ts), default=None)
    events = register_events_since(conn, series, oldest_prev)
    states = []
    for reg in meter.registers:
        previous = None
        typical = None
        replaced = False
        if reg.latest_valid_ts is not None and reg.latest_valid_value is not None:
            previous = PreviousReading(Decimal(repr(reg.latest_valid_value)), reg.latest_valid_ts)
            replaced = any(ts > reg.latest_valid_ts for ts, _ in events.get(reg.series_id, []))
            first = first_valid_reading_since(
                conn, reg.series_id, reg.latest_valid_ts - timedelta(days=365), reg.latest_valid_ts
            )
            if first is not None:
                days = Decimal((reg.latest_valid_ts - first.ts).total_seconds()) / 86_400
                used = (previous.value - Decimal(repr(first.value))) * meter.multiplier
                if (
                    days >= 7
                    and used >= 0
                    and not any(
                        first.ts < ts <= reg.latest_valid_ts for ts, _ in events.get(reg.series_id, [])
                    )
                ):
                    typical = used / days
        states.append(
            RegisterState(
                label=reg.label,
                register=reg.register,
                previous=previous,
                latest_ts=reg.latest_ts,
                replaced_after_previous=replaced,
                max_per_hour=Decimal(repr(reg.max_per_hour)) if reg.max_per_hour is not None else None,
                typical_per_day=typical,
            )
        )
    return SubmissionMeter(
        meter.meter_id,
        meter.service,
        tuple(states),
        verification_due=meter.verification_due,
        removed_on=meter.removed_on,
        register_digits=meter.register_digits,
        multiplier=meter.multiplier,
    )


class SubmissionRejected(ValueError):
    """The store refused the reading (e.g. a concurrent reading at the same instant)."""


@dataclass(frozen=True)
class StoredSubmission:
    next_bill_method: VolumeMethod
    next_bill_period: BillingPeriod
    counts_for: BillingPeriod
    submission_id: int
    warnings: list[dict[str, str | None]] = field(default_factory=list)


def _next_bill(
    conn: psycopg.Connection,
    ctx: AccountContext,
    meter: AccountMeter,
    result: SubmissionResult,
    window_last_day: int,
) -> tuple[VolumeMethod, BillingPeriod]:
    tz = ZoneInfo(ctx.time_zone)
    local = result.taken_at.astimezone(tz).date()
    period = BillingPeriod(local.year, local.month)
    has_reading = result.counts_for == period
    if not has_reading:  # late: did the period get a reading in its window before?
        has_reading = valid_readings_between(
            conn,
            [r.series_id for r in meter.registers],
            readings_window_end(period.previous(), ctx.time_zone, window_last_day),
            readings_window_end(period, ctx.time_zone, window_last_day),
        )
    history = volume_history(conn, ctx.building_id, period).get((ctx.account_no, meter.service))
    method = next_bill_method(
        service=meter.service,
        period=period,
        has_reading_for_period=has_reading,
        verification_due=meter.verification_due,
        history=history.metered if history else (),
        consecutive_average_periods=history.without_readings if history else 0,
        residential=ctx.residential,
    )
    return method, period


def submit_reading(
    conn: psycopg.Connection,
    ctx: AccountContext,
    meter: AccountMeter,
    result: SubmissionResult,
    *,
    user_id: int | None,
    window_last_day: int,
    now: datetime,
) -> StoredSubmission:
    """Store an accepted submission as manual readings (``ReadingSource.MANUAL``: the ingest path, so the
    series is marked for the rollup and the close reads it) plus its audit row, in one transaction."""
    if not result.accepted or result.counts_for is None:
        raise ValueError("only an accepted submission can be stored")
    method, period = _next_bill(conn, ctx, meter, result, window_last_day)
    by_label = {r.label: r for r in meter.registers}
    readings = [
        Reading(
            meter.meter_id,
            by_label[label].register,
            result.taken_at,
            float(value),
            by_label[label].unit,
            source=ReadingSource.MANUAL,
        )
        for label, value in result.values.items()
    ]
    warnings = [w.as_dict() for w in result.warnings]
    with conn.transaction():
        written = ReadingWriter(conn, source_name="api", clock=lambda: now).write(
            readings, context={"account_no": ctx.account_no, "user_id": user_id}
        )
        if written.rejected or written.inserted != len(readings):
            raise SubmissionRejected(
                f"the reading store refused the submission ({dict(written.reasons) or 'duplicate'}); "
                "a reading at the same instant may already exist — submit again"
            )
        (submission_id,) = conn.execute(
            """
            INSERT INTO reading_submissions (user_id, account_no, meter_id, taken_at, counts_for,
                                             submitted_values, next_bill_method, warnings)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id
            """,
            (
                user_id,
                ctx.account_no,
                meter.meter_id,
                result.taken_at,
                str(result.counts_for),
                json.dumps({k: str(v) for k, v in result.values.items()}),
                method.value,
                json.dumps(warnings, ensure_ascii=False),
            ),
        ).fetchone()
    return StoredSubmission(method, period, result.counts_for, submission_id, warnings)
