"""The period close of one building (закрытие периода): load → engine → write, in one transaction.

``close_building(conn, building, period, final=False)`` computes every account of the building and
replaces the period's **draft** results (volumes, charge lines, house common property, recalculations,
the close report). With ``final=True`` it then marks the period ``closed``: from then on it is immutable
and a re-run raises :class:`~meterhub.billing.close.results_store.ClosedPeriodError`.

Recalculations (перерасчёт, billing-rules.md §7.1 [I]): of the building's last ``recalc_months`` closed
periods, those whose change marker moved (:mod:`meterhub.billing.close.input_changes`: a change to the
building's inputs committed after the period was computed, or corrections booked since) are reloaded
from today's data; a reloaded period whose engine input still has the digest it was closed with is
skipped, the others are recomputed, and any difference from what was closed — minus corrections
already booked in other periods — becomes recalculation lines in the period being computed, each
referencing the period it corrects.

A final close first makes readings ingest log late data of the period (the building's change horizon)
and waits for ingest transactions in flight, then stores the database snapshot its inputs were read
with; see :mod:`meterhub.billing.close.input_changes`.
"""

from __future__ import annotations

import dataclasses
import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import psycopg
from psycopg.pq import TransactionStatus

from meterhub.billing.close.input_changes import (
    MARGIN,
    changed_periods,
    current_snapshot,
    horizon_covers,
    raise_horizon,
    watch_buildings,
)
from meterhub.billing.close.loader import (
    LoadedBuilding,
    LoaderOptions,
    UnknownBuildingError,
    load_building_input,
)
from meterhub.billing.close.repository import get_building
from meterhub.billing.close.results_store import (
    ClosedPeriodError,
    averaged_charges,
    booked_corrections,
    closed_periods,
    lock_period,
    mark_closed,
    read_charge_lines,
    replace_draft_results,
    stored_input_digest,
)
from meterhub.billing.rules.building import BuildingCharges, BuildingInput, compute_building_charges
from meterhub.billing.rules.charges import BillingRules, ChargeKind
from meterhub.billing.rules.input_digest import input_digest
from meterhub.billing.rules.periods import BillingPeriod
from meterhub.billing.rules.recalculation import RecalculationLine, recalculation_lines
from meterhub.billing.rules.rounding import engine_context, round_money
from meterhub.billing.rules.tariffs import Service
from meterhub.billing.rules.true_up import REASON as TRUE_UP_REASON
from meterhub.billing.rules.true_up import true_up_lines
from meterhub.billing.rules.zones import Zone

__all__ = [
    "CloseOptions",
    "CloseResult",
    "build_report",
    "close_building",
    "pending_recalculations",
    "true_up_recalculations",
]

# Shown to residents (receipt section 5, the cabinet): the period and why, in Russian.
RECALC_REASON = (
    "Перерасчёт за {period}: данные изменились после закрытия периода "
    "(поздние или исправленные показания, площади или число проживающих)"
)


@dataclass(frozen=True)
class CloseOptions:
    final: bool = False
    """Mark the period closed (immutable) after writing; otherwise it stays a replaceable draft."""
    recalc_months: int = 3
    """How many of the latest closed periods are looked at for recalculation lines."""
    recheck: Literal["changed", "all"] = "changed"
    """``changed``: reload only closed periods whose change marker moved; ``all``: reload every one
    (after a repair that bypassed ingest and the domain tables, e.g. a direct SQL edit of readings)."""
    change_wait_seconds: float = 30.0
    """A final close waits at most this long for ingest transactions in flight (else the period gets no
    snapshot and is always rechecked)."""
    loader: LoaderOptions = field(default_factory=LoaderOptions)
    rules: BillingRules = field(default_factory=BillingRules)
    fast_engine: bool = True
    """The engine's fast path (identical lines, a fraction of the CPU: docs/billing-engine.md); ``False``
    runs every account through the reference path."""


def compute_charges(
    loaded_input: BuildingInput, period: BillingPeriod, options: CloseOptions
) -> BuildingCharges:
    """The engine call of the close, with the cyclic garbage collector paused while it runs.

    The engine allocates some 30,000 short-lived objects per building and creates no reference cycles;
    at the default collector threshold its passes over the heap cost about a quarter of the engine's CPU
    (benchmarks/bench_engine.py). Close workers already raise the threshold (runner.py); this gives a
    close run in one process (one building from the CLI or the API, tests) the same. The collector is
    restored as it was, also on an error.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return compute_building_charges(loaded_input, period, options.rules, fast=options.fast_engine)
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class CloseResult:
    building: str
    period: str
    status: str  # "draft" or "closed"
    accounts: int
    lines: int
    total: Decimal
    recalculations: int
    report: dict[str, Any]
    seconds_load: float
    seconds_engine: float
    seconds_write: float
    rechecked: tuple[str, ...] = ()
    """Closed periods reloaded because their change marker moved (see :mod:`input_changes`)."""
    seconds_money: float = 0  # wall-clock timing [s], not money
    """The money step after the write (recalculations of absences and quality, penalties, advances)."""


def pending_recalculations(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    options: CloseOptions,
    rechecked: list[str] | None = None,
) -> list[RecalculationLine]:
    """Net corrections of the building's recent closed periods, to be booked in ``period``; the
    periods reloaded are appended to ``rechecked``."""
    result: list[RecalculationLine] = []
    candidates = closed_periods(conn, building_id, period, options.recalc_months)
    if options.recheck != "all":
        candidates = sorted(changed_periods(conn, building_id, candidates, period))
    for closed in sorted(candidates):
        if rechecked is not None:
            rechecked.append(str(closed))
        loaded = load_building_input(conn, building_id, closed, options.loader)
        booked = booked_corrections(conn, building_id, closed, excluding=period)
        if not booked and input_digest(loaded.input) == stored_input_digest(conn, building_id, closed):
            continue  # same inputs as when it was closed, nothing booked since: no correction
        corrected = compute_charges(loaded.input, closed, options).lines
        raw = recalculation_lines(
            read_charge_lines(conn, building_id, closed),
            corrected,
            in_period=period,
            reason=RECALC_REASON.format(period=closed.title_ru),
        )
        seen = set()
        with engine_context():
            for r in raw:
                key = (r.account, r.service.value, r.kind.value, r.zone.value, r.part_start)
                seen.add(key)
                amount, volume, exact = booked.get(key, (Decimal(0), Decimal(0), Decimal(0)))
                net = dataclasses.replace(
                    r,
                    amount=r.amount - amount,
                    volume_delta=r.volume_delta - volume,
                    amount_exact_delta=r.amount_exact_delta - exact,
                )
                if net.amount or net.volume_delta:
                    result.append(net)
            for key, (amount, volume, exact) in booked.items():
                if key not in seen and (amount or volume):
                    result.append(_reversal(key, amount, volume, exact, period, closed))
    return result


def true_up_recalculations(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, loaded: LoadedBuilding
) -> list[RecalculationLine]:
    """п. 61 true-up lines of the averaged runs that end in ``period`` (``loaded.true_ups``): the actual
    consumption over each run minus the averaged volumes charged, per zone, spread over the averaged
    periods at their prices (:mod:`meterhub.billing.rules.true_up`), booked in ``period`` with
    ``source='true_up'``. The run ends once: the current period is billed by meter, so the next period
    sees no averaged run before it; a draft re-run replaces the lines."""
    if not loaded.true_ups:
        return []
    periods = sorted({p for t in loaded.true_ups for p in t.periods})
    charged = averaged_charges(conn, building_id, periods)
    result: list[RecalculationLine] = []
    water: dict[tuple[str, BillingPeriod], Decimal] = {}  # (account, period) → Σ cold/hot true-up [m³]
    for t in loaded.true_ups:
        averaged = [charged.get((t.account, t.service.value, str(p))) for p in t.periods]
        if any(a is None for a in averaged):
            continue  # a period of the run has no averaged individual line (e.g. zero average)
        reason = f"{TRUE_UP_REASON}: {', '.join(map(str, t.periods))} по среднему; {t.detail}"
        for line in true_up_lines(t.actual, [a for a in averaged if a], in_period=period, reason=reason):
            result.append(
                RecalculationLine(
                    account=t.account,
                    period=period,
                    corrects_period=line.corrects_period,
                    service=t.service,
                    kind=ChargeKind.INDIVIDUAL,
                    zone=line.zone,
                    part_start=line.corrects_period.first_day,
                    volume_delta=line.volume,
                    amount_exact_delta=line.amount_exact,
                    amount=line.amount,
                    method_before="average",
                    method_after="meter",
                    reason=reason,
                    source="true_up",
                )
            )
            if t.service in (Service.COLD_WATER, Service.HOT_WATER):
                key = (t.account, line.corrects_period)
                with engine_context():
                    water[key] = water.get(key, Decimal(0)) + line.volume
    result += _wastewater_true_up(water, charged, period)
    return result


def _wastewater_true_up(
    water: dict[tuple[str, BillingPeriod], Decimal],
    charged: dict[tuple[str, str, str], Any],
    period: BillingPeriod,
) -> list[RecalculationLine]:
    """Wastewater without its own meter = cold + hot water (ПП 354 Прил. 2) [M]: where it was billed by
    average in a trued-up month, its volume moves by the same Σ cold/hot true-up volume, at that month's
    wastewater price."""
    lines: list[RecalculationLine] = []
    with engine_context():
        for (account, corrects), volume in sorted(water.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            averaged = charged.get((account, Service.WASTEWATER.value, str(corrects)))
            if averaged is None or not volume or not averaged.prices:
                continue
            price = sum(
                (averaged.zone_volumes.get(z, Decimal(0)) * p for z, p in averaged.prices.items()), Decimal(0)
            ) / sum(averaged.zone_volumes.values(), Decimal(0))
            exact = volume * price
            lines.append(
                RecalculationLine(
                    account=account,
                    period=period,
                    corrects_period=corrects,
                    service=Service.WASTEWATER,
                    kind=ChargeKind.INDIVIDUAL,
                    zone=Zone.SINGLE,
                    part_start=corrects.first_day,
                    volume_delta=volume,
                    amount_exact_delta=exact,
                    amount=round_money(exact),
                    method_before="average",
                    method_after="meter",
                    reason=f"{TRUE_UP_REASON}: водоотведение = ХВС + ГВС, {corrects} по среднему",
                    source="true_up",
                )
            )
    return lines


def _reversal(
    key: tuple[Any, ...],
    amount: Decimal,
    volume: Decimal,
    exact: Decimal,
    period: BillingPeriod,
    closed: BillingPeriod,
) -> RecalculationLine:
    """Undo an earlier correction that today's data no longer supports."""
    account, service, kind, zone, part_start = key
    return RecalculationLine(
        account=account,
        period=period,
        corrects_period=closed,
        service=Service(service),
        kind=ChargeKind(kind),
        zone=Zone(zone),
        part_start=part_start,
        volume_delta=-volume,
        amount_exact_delta=-exact,
        amount=-amount,
        method_before=None,
        method_after=None,
        reason=RECALC_REASON.format(period=closed) + "; reverses an earlier correction",
    )


def build_report(
    charges: BuildingCharges,
    loaded: LoadedBuilding,
    recalculations: Sequence[RecalculationLine],
    status: str,
) -> dict[str, Any]:
    """The close report of one building (stored as jsonb; numbers as exact strings)."""
    services = []
    for s in charges.service_summaries():
        services.append(
            {
                "service": s.service.value,
                "house_volume": s.house_volume,
                "individual_volume": s.individual_volume,
                "common_property_method": s.common_property_method,
                "common_property_volume": s.common_property_volume,
                "common_property_coefficient": s.common_property_coefficient,
                "excess_volume": s.excess_volume,
                "excess_cost": s.excess_cost,
                "negative_difference": s.negative_difference,
                "accounts_by_method": dict(s.accounts_by_method),
                "individual_amount": s.individual_amount,
                "common_property_amount": s.common_property_amount,
            }
        )
    with engine_context():
        recalc_total = sum((r.amount for r in recalculations), Decimal(0))
    return {
        "building": charges.building,
        "period": str(charges.period),
        "status": status,
        "accounts": len(charges.accounts),
        "lines": sum(len(acc.lines) for acc in charges.accounts),
        "total": charges.total,
        "services": services,
        "meters": dict(loaded.meters),
        "problem_meters": loaded.problem_meters,
        "recalculations": {
            "lines": len(recalculations),
            "amount": recalc_total,
            "periods": sorted({str(r.corrects_period) for r in recalculations}),
        },
        "warnings": [*loaded.warnings, *charges.warnings],
    }


def _close_heating(
    conn: psycopg.Connection, building_id: str, period: BillingPeriod, report: dict[str, Any]
) -> tuple[int, Decimal]:
    """Heating (отопление, billing/heating): its lines, results and report section; (lines, Σ)."""
    from meterhub.billing.close.heating.step import close_heating, store_report

    total = close_heating(conn, building_id, period, report)
    if "heating" not in report:
        return 0, Decimal(0)
    with engine_context():
        report["total"] = report["total"] + total
    store_report(conn, building_id, period, report)
    return int(report["heating"].get("lines", 0)), total


def close_building(
    conn: psycopg.Connection,
    building_id: str,
    period: BillingPeriod,
    options: CloseOptions | None = None,
) -> CloseResult:
    """Compute and write one building's period in one transaction; see the module docstring."""
    options = options or CloseOptions()
    idle = conn.info.transaction_status == TransactionStatus.IDLE
    building = get_building(conn, building_id)
    if building is None:
        raise UnknownBuildingError(f"building {building_id!r} is not in the buildings table; import it first")
    horizon = (building_id, period.bounds_utc(building.time_zone)[1] + MARGIN)
    watched = True
    if options.final and not horizon_covers(conn, *horizon):
        if idle:
            if conn.info.transaction_status == TransactionStatus.INTRANS:
                conn.commit()  # only the two reads above
            watched = watch_buildings(conn, [horizon], wait_seconds=options.change_wait_seconds)
        else:
            watched = False  # inside the caller's transaction: cannot wait; always rechecked
    elif idle and conn.info.transaction_status == TransactionStatus.INTRANS:
        conn.commit()
    with conn.transaction():
        if lock_period(conn, building_id, period) == "closed":
            raise ClosedPeriodError(
                f"building {building_id}: period {period} is closed and immutable; later changes are "
                f"booked as recalculations in the next open period ({period.next()})"
            )
        if options.final and not watched:
            raise_horizon(conn, [horizon])
        snapshot = current_snapshot(conn) if watched else None
        t0 = time.perf_counter()
        loaded = load_building_input(conn, building_id, period, options.loader)
        t1 = time.perf_counter()
        charges = compute_charges(loaded.input, period, options)
        rechecked: list[str] = []
        recalculations = pending_recalculations(conn, building_id, period, options, rechecked)
        recalculations += true_up_recalculations(conn, building_id, period, loaded)
        t2 = time.perf_counter()
        status = "closed" if options.final else "draft"
        report = build_report(charges, loaded, recalculations, status)
        report["recalculations"]["rechecked"] = rechecked
        lines, total = report["lines"], report["total"]  # the engine's, before heating adds its own
        replace_draft_results(
            conn,
            charges,
            recalculations,
            report,
            # only a closed period's digest is ever compared (pending_recalculations); a draft is
            # recomputed, digest included, by the final close that closes it
            input_digest(loaded.input) if options.final else None,
            input_snapshot=snapshot,
            inputs_from=loaded.inputs_from,
            inputs_to=loaded.inputs_to,
        )
        heating = _close_heating(conn, building_id, period, report)
        if options.final:
            mark_closed(conn, building_id, period)
        tm = time.perf_counter()
        # Money step (issue 6, owned by billing/money/penalty_run.py): absence and interruption
        # recalculations,
        # penalties (пени) of the earlier debts, advances applied — same transaction as the charges.
        from meterhub.billing.money.penalty_run import close_money

        close_money(conn, building_id, period)
        t3 = time.perf_counter()
    return CloseResult(
        building_id,
        str(period),
        status,
        len(charges.accounts),
        lines + heating[0],
        total + heating[1],
        len(recalculations),
        report,
        t1 - t0,
        t2 - t1,
        tm - t2,
        tuple(rechecked),
        t3 - tm,
    )
