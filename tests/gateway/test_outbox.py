"""Outbox: write, claim, ack/delete, restart with the same batch ids, the bound and its warning."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from meterhub.core.mqtt_contract import ReadingV1, reading_to_json
from meterhub.core.readings import Reading, ReadingQuality, ReadingSource
from meterhub.gateway.outbox import Outbox

T0 = datetime(2026, 2, 1, 0, 0, tzinfo=UTC)


class FrozenClock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def readings(n: int, start: int = 0, meter: str = "EAS-1") -> list[Reading]:
    return [
        Reading(
            meter, "energy_import_kwh", T0 + timedelta(minutes=15 * (start + i)), 100.0 + start + i, "kWh"
        )
        for i in range(n)
    ]


def test_write_claim_ack_delete(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", clock=FrozenClock())
    assert box.add(readings(7)).stored == 7
    assert box.backlog == 7 and box.unclaimed == 7
    assert box.oldest_ts() == T0
    first = box.claim(5)
    assert first is not None and len(first.readings) == 5 and box.unclaimed == 2
    second = box.claim(5)
    assert second is not None and len(second.readings) == 2 and box.claim(5) is None
    assert box.pending_batch_ids() == [first.batch_id, second.batch_id]
    assert box.ack(first.batch_id) == 5 and box.backlog == 2
    assert box.ack(first.batch_id) == 0  # a second PUBACK for the same batch changes nothing
    assert box.oldest_ts() == T0 + timedelta(minutes=75)
    assert box.ack(second.batch_id) == 2 and box.backlog == 0 and box.oldest_ts() is None
    box.close()


def test_rows_are_the_contract_json_of_the_readings(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    original = [
        Reading(
            "KAM-123",
            "heat_gcal",
            datetime(2026, 1, 31, 21, 0, 0, 123456, tzinfo=UTC),
            12.3456789,
            "Gcal",
            ReadingQuality.UNCERTAIN,
        ),
        Reading("ITR-9", "water_m3", T0, 0.001, "m3", ReadingQuality.BAD, ReadingSource.ESTIMATE),
    ]
    box.add(original)
    batch = box.claim(10)
    assert batch is not None
    assert batch.readings == [reading_to_json(r) for r in original]
    assert [ReadingV1.model_validate(r).to_reading() for r in batch.readings] == original


def test_restart_resends_claimed_batches_with_the_same_id_and_readings(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.add(readings(10))
    claimed = box.claim(4)
    assert claimed is not None
    # the process dies here: no close(), no ack
    again = Outbox(path)
    assert again.backlog == 10 and again.unclaimed == 6
    assert again.pending_batch_ids() == [claimed.batch_id]
    reloaded = again.load(claimed.batch_id)
    assert reloaded == claimed
    rest = again.claim(100)
    assert rest is not None and len(rest.readings) == 6 and rest.first_id > claimed.last_id
    box.close()
    again.close()


def test_ids_are_never_reused_after_the_outbox_empties(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.add(readings(3))
    batch = box.claim(10)
    assert batch is not None
    box.ack(batch.batch_id)
    box.close()
    box = Outbox(path)  # claimed_upto survives; new rows must still be claimable
    box.add(readings(2, start=3))
    again = box.claim(10)
    assert again is not None and len(again.readings) == 2 and again.first_id > batch.last_id


def test_bound_warning_reports_days_then_refuses_newest_interval_reads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FrozenClock()
    box = Outbox(tmp_path / "o.sqlite3", max_readings=1000, warn_at=0.8, billing_reserve=0.05, clock=clock)
    caplog.set_level(logging.WARNING, logger="meterhub.gateway.outbox")
    for hour in range(7):  # 100 readings an hour: 2,400 a day
        box.add(readings(100, start=hour * 100))
        clock.at += timedelta(hours=1)
    assert not caplog.records
    box.add(readings(100, start=700))
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    assert "80% full" in warning[0] and "2,400 readings/day" in warning[0] and "0.4 days" in warning[0]
    clock.at += timedelta(hours=1)
    box.add(readings(100, start=800))
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1  # warned once
    result = box.add(readings(150, start=900))
    assert (result.stored, result.dropped) == (100, 50)  # the oldest are kept, the newest refused
    assert box.backlog == 1000
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "refused 50" in errors[0]
    # day/month-start reads still fit in the 5 % reserve, then they are refused too
    billing = box.add(readings(60, start=2000, meter="BILL-1"), billing=True)
    assert (billing.stored, billing.dropped) == (50, 10)
    assert box.add(readings(1, start=3000)).dropped == 1
    assert box.dropped == 61
    box.close()
    reopened = Outbox(tmp_path / "o.sqlite3", max_readings=1000)
    assert reopened.dropped == 61 and reopened.backlog == 1050
    # the oldest readings are still there, in order
    first = reopened.claim(1)
    assert first is not None and first.readings[0]["ts"] == T0.isoformat()


def test_warning_clears_after_the_backlog_drains(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_readings=100, warn_at=0.5)
    caplog.set_level(logging.INFO, logger="meterhub.gateway.outbox")
    box.add(readings(60))
    batch = box.claim(60)
    assert batch is not None
    box.ack(batch.batch_id)
    assert any("back below 50%" in r.getMessage() for r in caplog.records)
    box.add(readings(60, start=60))
    assert len([r for r in caplog.records if "full" in r.getMessage()]) == 2


def test_size_bound_in_bytes(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3", max_readings=10_000_000, max_bytes=200_000, billing_reserve=0)
    stored = dropped = 0
    for k in range(100):
        result = box.add(readings(100, start=k * 100))
        stored, dropped = stored + result.stored, dropped + result.dropped
    assert dropped > 0 and 1000 < stored < 10_000
    assert box.capacity().fraction >= 1.0
    assert box.file_bytes() < 200_000 + 100 * 200  # at most one insert beyond the bound


def test_wal_and_full_sync(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_the_last_stamp_per_series_outlives_the_acknowledged_readings_and_a_restart(tmp_path: Path) -> None:
    """A clock stepped back is judged against the last second stamped per series
    (``gateway.stamping``): that must survive the readings' deletion on the commit and a restart."""
    path = tmp_path / "o.sqlite3"
    box = Outbox(path, clock=FrozenClock())
    box.add(readings(3), device="lan/1")  # 00:00, 00:15, 00:30
    box.add(readings(1, meter="EAS-2"), device="lan/2")  # 00:00
    box.add([readings(1)[0]], device="lan/1")  # an older stamp does not move the last one back
    batch = box.claim(100)
    assert batch is not None and box.ack(batch.batch_id) == 5 and box.backlog == 0
    assert box.bump_counter("clock_episodes") == 1 and box.bump_counter("clock_episodes", 2) == 3
    box.close()
    again = Outbox(path, clock=FrozenClock())
    assert sorted(again.last_stamps()) == [
        ("EAS-1", "energy_import_kwh", "lan/1", T0 + timedelta(minutes=30)),
        ("EAS-2", "energy_import_kwh", "lan/2", T0),
    ]
    assert again.counter("clock_episodes") == 3 and again.counter("clock_held_reads") == 0
    again.close()


def test_an_outbox_of_an_older_gateway_seeds_the_last_stamps_from_its_waiting_readings(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    box = Outbox(path, clock=FrozenClock())
    box.add(readings(2))  # 00:00, 00:15 still waiting
    box.close()
    with sqlite3.connect(path) as db:  # as an older gateway left it: no last stamps kept
        db.execute("DROP TABLE series_last")
        db.execute("DELETE FROM meta WHERE key = 'series_last_seeded'")
    upgraded = Outbox(path, clock=FrozenClock())
    assert upgraded.last_stamps() == [("EAS-1", "energy_import_kwh", "", T0 + timedelta(minutes=15))]
    upgraded.close()
