"""The failures inflicted on a ``Pipeline`` (``tests/pipeline_faults.py``) and a whole run of them.

Each scenario takes the pipeline and ``down`` (how long a component stays away, seconds) and leaves
every component running again, so the next starts from a healthy pipeline.
"""

from __future__ import annotations

import signal
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tests.pipeline_faults import Pipeline, Reconciliation


def ingest_sigterm(p: Pipeline, down: float) -> None:
    p.ingests["ingest-1"].stop(signal.SIGTERM)  # keeps its session: the broker holds its share
    time.sleep(down)
    p.ingest("ingest-1")


def ingest_kill9(p: Pipeline, down: float) -> None:
    p.ingests["ingest-1"].stop(signal.SIGKILL)
    time.sleep(down)
    p.ingest("ingest-1")


def _broker_outage(p: Pipeline, down: float, *, kill: bool, persistence: bool) -> None:
    p.broker.stop(kill=kill)
    p.set_broker_persistence(persistence)
    time.sleep(down)
    p.broker.start()


def broker_stop_persistent(p: Pipeline, down: float) -> None:
    _broker_outage(p, down, kill=False, persistence=True)


def broker_kill9_persistent(p: Pipeline, down: float) -> None:
    _broker_outage(p, down, kill=True, persistence=True)


def broker_stop_without_persistence(p: Pipeline, down: float) -> None:
    _broker_outage(p, down, kill=False, persistence=False)


def broker_kill9_without_persistence(p: Pipeline, down: float) -> None:
    _broker_outage(p, down, kill=True, persistence=False)
    p.set_broker_persistence(True)  # the next restart (if any) keeps state again


def postgres_crash(p: Pipeline, down: float) -> None:
    p.pg.crash()
    time.sleep(down)
    p.pg.start()


def gateway_kill9_in_flight(p: Pipeline, down: float) -> None:
    """The ingest is frozen (SIGSTOP), so the gateways' batches are published and not yet committed
    when one gateway is killed; it restarts on the same outbox."""
    ingest = p.ingests["ingest-1"]
    ingest.send(signal.SIGSTOP)
    try:
        time.sleep(max(1.5, down / 2))
        p.sites[0].kill()
    finally:
        ingest.send(signal.SIGCONT)
    time.sleep(down / 2)
    p.sites[0].start()


def second_ingest_restarted(p: Pipeline, down: float) -> None:
    """Two ingest processes share the group; the second is stopped (SIGTERM) and comes back."""
    p.ingest("ingest-2")
    time.sleep(down)
    p.ingests["ingest-2"].stop(signal.SIGTERM)
    time.sleep(down)
    p.ingest("ingest-2")
    time.sleep(down)
    p.ingests["ingest-2"].stop(signal.SIGTERM)
    p.ingest("ingest-2", "--leave-group")  # ... and is taken away for good at the end
    time.sleep(1)
    p.ingests["ingest-2"].stop(signal.SIGTERM)


def second_ingest_lost(p: Pipeline, down: float) -> None:
    """The second of two ingest processes dies (kill -9) and never returns; the broker drops its session
    (and the messages queued for it) when the session expires: the gateways re-send those."""
    p.ingest("ingest-3", "--session-expiry", "3")
    time.sleep(down)
    p.ingests["ingest-3"].stop(signal.SIGKILL)
    time.sleep(down)


SCENARIOS: list[tuple[str, Callable[[Pipeline, float], None]]] = [
    ("ingest SIGTERM", ingest_sigterm),
    ("ingest kill -9", ingest_kill9),
    ("broker graceful stop, persistence on", broker_stop_persistent),
    ("broker kill -9, persistence on", broker_kill9_persistent),
    ("broker graceful stop, no persistence", broker_stop_without_persistence),
    ("broker kill -9, no persistence", broker_kill9_without_persistence),
    ("PostgreSQL crash (pg_ctl stop -m immediate)", postgres_crash),
    ("gateway kill -9 with batches in flight", gateway_kill9_in_flight),
    ("two ingest processes, one stopped and back", second_ingest_restarted),
    ("two ingest processes, one killed for good", second_ingest_lost),
]


def run(
    workdir: Path | None = None,
    *,
    down: float = 4.0,
    rounds: int = 1,
    gateways: int = 2,
    settle_timeout: float = 180.0,
    report: Callable[[str], None] | None = None,
) -> tuple[Reconciliation, Pipeline]:
    """Baseline, then every scenario ``rounds`` times; then settle and reconcile. The caller closes the
    returned pipeline (its logs help when something is lost)."""
    tmp = workdir or Path(tempfile.mkdtemp(prefix="meterhub-faults-"))
    p = Pipeline(tmp, gateways=gateways)
    try:
        p.ingest("ingest-1")
        p.start_gateways()
        with p.phase("baseline"):
            time.sleep(down)
        for r in range(rounds):
            for name, scenario in SCENARIOS:
                label = name if rounds == 1 else f"{name} #{r + 1}"
                if report:
                    report(f"{datetime.now(UTC):%H:%M:%S} {label}")
                with p.phase(label):
                    scenario(p, down)
                    time.sleep(1.0)
        with p.phase("settling"):
            settled = p.settle(settle_timeout)
        result = p.reconcile()
        if not settled and report:
            report(f"not settled within {settle_timeout} s")
        return result, p
    except BaseException:
        p.close()
        raise
