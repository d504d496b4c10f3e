"""Resident counts from the register for one month of one building: replay of the events and the per-day
counts (registry.events / registry.resident_days), against the baseline of a plain interval sum of
person-days over the same spans (what a count without per-day detail costs), measured in the same run.

    PYTHONPATH=src python benchmarks/bench_registry.py [--premises 100 1000 5000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from meterhub.registry.events import EventKind, RegistrationEvent, replay_events
from meterhub.registry.resident_days import AccountWindow, counts_by_day

FIRST, END = date(2026, 3, 1), date(2026, 4, 1)


def building_events(premises: int, seed: int = 7) -> tuple[list[RegistrationEvent], list[AccountWindow]]:
    """~3 persons a premise, a fifth of them arriving or leaving in the month, some stays and notices."""
    rng = random.Random(seed)
    events: list[RegistrationEvent] = []
    accounts = [AccountWindow(f"LS-{p}", str(p), date(2010, 1, 1)) for p in range(premises)]
    next_id = 1
    for p in range(premises):
        for person in range(rng.randint(1, 5)):
            pid = p * 10 + person
            kind = rng.choices([EventKind.RESIDENCE, EventKind.STAY, EventKind.NOTICE], [8, 1, 1])[0]
            start = FIRST + timedelta(days=rng.randint(-900, 25))
            end = start + timedelta(days=rng.randint(3, 400)) if kind is not EventKind.RESIDENCE else None
            events.append(RegistrationEvent(next_id, kind, pid, start, "B1", str(p), end))
            arrival, next_id = next_id, next_id + 1
            if kind is EventKind.RESIDENCE and rng.random() < 0.1:
                left = max(start + timedelta(days=1), FIRST + timedelta(days=rng.randint(0, 30)))
                events.append(
                    RegistrationEvent(
                        next_id,
                        EventKind.DEREGISTRATION,
                        pid,
                        left,
                        "B1",
                        str(p),
                        None,
                        arrival,
                        reason="departure",
                    )
                )
                next_id += 1
    return events, accounts


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, nargs="+", default=[100, 1000, 5000])
    args = parser.parse_args()
    print(
        f"{'premises':>9} {'events':>8} {'replay ms':>10} {'per-day ms':>11} {'interval-sum ms':>16} "
        f"{'per-day / sum':>14}"
    )
    for n in args.premises:
        events, accounts = building_events(n)
        t_replay, spans = timed(lambda events=events: replay_events(events))
        t_days, counts = timed(
            lambda spans=spans, accounts=accounts: counts_by_day(spans, accounts, FIRST, END)
        )
        t_sum, total = timed(lambda spans=spans: sum(s.days_in(FIRST, END) for s in spans))
        assert sum(counts.person_days(a.account_no) for a in accounts) <= total  # short notices are left out
        print(
            f"{n:>9} {len(events):>8} {t_replay * 1e3:>10.1f} {t_days * 1e3:>11.1f} {t_sum * 1e3:>16.2f} "
            f"{t_days / t_sum:>13.0f}×"
        )


if __name__ == "__main__":
    main()
