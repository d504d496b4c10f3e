"""Zero loss from the gateways' outboxes to the database, through every failure we can inflict.

Real processes all the way (see ``tests/pipeline_faults.py``): simulated Modbus meters → two
``meterhub gateway`` processes → Mosquitto → ``meterhub ingest`` processes → a private PostgreSQL.
While the gateways poll and publish, one after another: the ingest is stopped with SIGTERM and killed
with SIGKILL; the broker is stopped gracefully and killed, with persistence and without; PostgreSQL
crashes (``pg_ctl stop -m immediate``); a gateway is killed with batches published and not yet
committed; a second ingest process joins and is stopped and comes back, and another is killed for good
(the broker then drops its session and what was queued for it).

The truth is the producer's: every reading a gateway accepted into its outbox, copied by a trigger in
the outbox's own transaction. At the end every one of them is in the database with the same value,
nothing else is, and every outbox is empty (every batch was acknowledged as committed). A short
version runs here (about two minutes); ``benchmarks/bench_pipeline_faults.py`` runs the long one.
"""

from __future__ import annotations

import shutil

import pytest

from tests.pipeline_fault_scenarios import SCENARIOS, run

pytestmark = [
    pytest.mark.db,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary"),
]


def test_no_reading_a_gateway_accepted_is_lost_or_changed_whatever_fails(tmp_path):
    result, pipeline = run(tmp_path, down=4.0, gateways=2, settle_timeout=150)
    try:
        per_phase = "\n".join(
            f"  {name}: {taken} taken, {lost} lost, {changed} changed"
            for name, (taken, lost, changed) in result.by_phase.items()
        )
        explain = f"\n{per_phase}\n{pipeline.logs_tail()}"
        assert result.truth > 500, explain  # a real stream: many polls of every meter
        for name, _ in SCENARIOS:  # every scenario ran while the gateways were taking readings
            assert result.by_phase[name][0] > 0, explain
        lost, changed = result.lost, result.changed
        assert not lost, f"{len(lost)} of {result.truth} readings lost, e.g. {lost[:3]}" + explain
        assert not changed, f"{len(changed)} values changed, e.g. {changed[:3]}" + explain
        assert not result.invented, f"{len(result.invented)} readings no gateway took" + explain
        assert result.stored == result.truth
        assert all(site.backlog() == 0 for site in pipeline.sites), explain  # all acknowledged as committed
        restarts = sum("re-sending them with their ids" in p.read_text() for p in tmp_path.glob("gw-*.log"))
        assert restarts >= 1, explain  # the killed gateway found its batches and sent them again
    finally:
        pipeline.close()
