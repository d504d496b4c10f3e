"""Close many buildings in parallel worker processes; one failing building does not stop the others.

Each worker process opens its own database connection once and closes buildings one by one
(:func:`~meterhub.billing.close.period.close_building`, one transaction each). A building that raises is
reported with the exception's message; a worker that dies is reported for the building it held.

A final run first raises the change horizon of all its buildings at once (one wait for ingest
transactions in flight instead of one per building), and every run ends by pruning the change log
(:mod:`meterhub.billing.close.input_changes`).
"""

from __future__ import annotations

import dataclasses
import gc
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from meterhub.billing.close.input_changes import MARGIN, prune_input_changes, watch_buildings
from meterhub.billing.close.period import CloseOptions, CloseResult, close_building
from meterhub.billing.rules.periods import BillingPeriod

__all__ = ["BuildingFailure", "CloseRun", "run_close"]


@dataclass(frozen=True)
class BuildingFailure:
    building: str
    reason: str


@dataclass
class CloseRun:
    period: str
    results: list[CloseResult] = field(default_factory=list)
    failures: list[BuildingFailure] = field(default_factory=list)
    seconds: float = 0  # wall-clock timing [s], not money

    @property
    def accounts(self) -> int:
        return sum(r.accounts for r in self.results)


Progress = Callable[[CloseResult | BuildingFailure], None]

_CONN: psycopg.Connection | None = None
_URL: str = ""


_GC_THRESHOLD = (50_000, 20, 20)
"""The worker's cyclic garbage collector runs after 50,000 net allocations instead of Python's 700
(and a full collection every 400 of those instead of every 100): closing a building allocates some
10⁵ short-lived objects (Decimals, lines, rows) that reference counting frees, and with the default
thresholds the collector spent 10–15 % of the worker's time walking them. Cycles are still collected,
so memory stays flat."""


def _init_worker(url: str) -> None:
    global _CONN, _URL
    _URL = url
    _CONN = None


def _init_pool_worker(url: str) -> None:
    _init_worker(url)
    gc.freeze()  # what the worker imported: never garbage, never walked again
    gc.set_threshold(*_GC_THRESHOLD)


def _connection() -> psycopg.Connection:
    global _CONN
    if _CONN is None or _CONN.closed:
        from meterhub.timeseries.database import connect

        _CONN = connect(_URL, autocommit=True)
    return _CONN


def _backend_cpu(pid: int) -> float | None:
    """User + system CPU [s] of a process of this machine (``/proc/<pid>/stat``); ``None`` if unreadable."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
        fields = text[text.rfind(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _close_one(
    building: str, period: str, options: CloseOptions, cpu: bool = False
) -> CloseResult | BuildingFailure:
    """Close one building; the returned report keeps counts of warnings and problem meters only (the
    full report is in ``close_reports``), so a city's results stay small in the parent process.

    ``cpu``: also measure the CPU the building took in this process and in its database backend (a
    server on this machine), returned as ``report["cpu_seconds"] = {"client": …, "server": …}``."""
    try:
        conn = _connection()
        if cpu:
            backend = conn.info.backend_pid
            client0, server0 = time.process_time(), _backend_cpu(backend)
        result = close_building(conn, building, BillingPeriod.parse(period), options)
        report = dict(result.report)
        if cpu:
            server1 = _backend_cpu(backend)
            if server0 is not None and server1 is not None:
                report["cpu_seconds"] = {"client": time.process_time() - client0, "server": server1 - server0}
        report["warnings"] = len(report["warnings"])
        report["problem_meters"] = len(report["problem_meters"])
        return dataclasses.replace(result, report=report)
    except Exception as exc:  # reported per building; the run goes on
        global _CONN
        if _CONN is not None and _CONN.broken:
            _CONN = None
        return BuildingFailure(building, f"{type(exc).__name__}: {exc}")


def run_close(
    url: str,
    period: BillingPeriod,
    buildings: Sequence[str],
    options: CloseOptions | None = None,
    *,
    workers: int = 2,
    progress: Progress | None = None,
    measure_cpu: bool = False,
) -> CloseRun:
    """Close ``buildings`` for ``period``; ``workers`` = 1 runs in this process (no pool).

    ``measure_cpu`` (benchmarks; the database server must run on this machine): each result's report
    gets ``cpu_seconds`` — the CPU the building took in the worker and in its database backend."""
    options = options or CloseOptions()
    run = CloseRun(str(period))
    started = time.perf_counter()
    if options.final:
        _watch(url, period, buildings, options)

    def record(outcome: CloseResult | BuildingFailure) -> None:
        (run.failures if isinstance(outcome, BuildingFailure) else run.results).append(outcome)
        if progress:
            progress(outcome)

    if workers <= 1:
        _init_worker(url)
        thresholds = gc.get_threshold()
        gc.set_threshold(*_GC_THRESHOLD)
        try:
            for b in buildings:
                record(_close_one(b, str(period), options, measure_cpu))
        finally:
            gc.set_threshold(*thresholds)
            if _CONN is not None:
                _CONN.close()
        _prune(url, options)
        run.seconds = time.perf_counter() - started
        return run
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_pool_worker, initargs=(url,)) as pool:
        pending: dict[Future[CloseResult | BuildingFailure], str] = {}
        queue = list(reversed(buildings))
        while queue or pending:
            while queue and len(pending) < workers * 4:
                b = queue.pop()
                pending[pool.submit(_close_one, b, str(period), options, measure_cpu)] = b
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                b = pending.pop(fut)
                try:
                    record(fut.result())
                except BrokenProcessPool as exc:
                    record(BuildingFailure(b, f"worker process died: {exc}"))
    _prune(url, options)
    run.seconds = time.perf_counter() - started
    return run


def _watch(url: str, period: BillingPeriod, buildings: Sequence[str], options: CloseOptions) -> None:
    """Make ingest log late data of ``period`` for all ``buildings`` before any of them is closed."""
    from meterhub.timeseries.database import connect

    with connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT building_id, time_zone FROM buildings WHERE building_id = ANY(%s)", (list(buildings),)
        ).fetchall()
        horizons = [(b, period.bounds_utc(tz)[1] + MARGIN) for b, tz in rows]
        watch_buildings(conn, horizons, wait_seconds=options.change_wait_seconds)


def _prune(url: str, options: CloseOptions) -> None:
    from meterhub.timeseries.database import connect

    with connect(url, autocommit=True) as conn:
        prune_input_changes(conn, options.recalc_months)
