"""Long fault injection: every failure of tests/test_pipeline_reliability.py, longer and repeated.

    .venv/bin/python benchmarks/bench_pipeline_faults.py [--rounds 3] [--down 30] [--gateways 3]

Real processes (simulated Modbus meters → ``meterhub gateway`` × N → Mosquitto → ``meterhub ingest`` →
a private PostgreSQL), the scenarios of ``tests/pipeline_faults.py`` run ``--rounds`` times with each
component away for ``--down`` seconds (30 s by default, as in the measurement that found the losses).
The truth is what the gateways accepted into their outboxes (a SQLite trigger copies every reading).
Prints per scenario: readings the gateways took while it ran, lost, changed; then the totals. Exits
with status 1 if anything was lost, changed or invented. Needs the mosquitto binary.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _db import table
from tests.pipeline_fault_scenarios import run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--down", type=float, default=30.0, help="seconds a component stays away")
    ap.add_argument("--gateways", type=int, default=3)
    ap.add_argument("--settle", type=float, default=900.0, help="longest wait for the outboxes to drain")
    args = ap.parse_args()
    if not shutil.which("mosquitto"):
        sys.exit("bench_pipeline_faults needs the mosquitto binary (apt-get install mosquitto)")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="meterhub-bench-faults-") as tmp:
        result, pipeline = run(
            Path(tmp), down=args.down, rounds=args.rounds, gateways=args.gateways,
            settle_timeout=args.settle, report=lambda line: print(line, flush=True),
        )  # fmt: skip
        try:
            rows = [
                (name, f"{taken:,}", f"{lost:,}", f"{changed:,}")
                for name, (taken, lost, changed) in result.by_phase.items()
            ]
            rows.append(("total", f"{result.truth:,}", f"{len(result.lost):,}", f"{len(result.changed):,}"))
            print(table(rows, ("scenario", "readings taken", "lost", "changed")))
            backlog = sum(s.backlog() for s in pipeline.sites)
            print(
                f"{args.gateways} gateways, {args.rounds} round(s), components away {args.down:g} s; "
                f"{result.stored:,} readings stored for {result.truth:,} taken; "
                f"{len(result.invented)} stored that no gateway took; {backlog} left in the outboxes; "
                f"{time.monotonic() - started:,.0f} s in all"
            )
            if not result.ok or backlog:
                print(pipeline.logs_tail(4000))
                sys.exit(1)
        finally:
            pipeline.close()


if __name__ == "__main__":
    main()
