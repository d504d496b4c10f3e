"""Forwarder rules with a fake publisher and a frozen clock: batching by size and time; only a commit
acknowledgement deletes a batch (never a PUBACK, whatever its code); a refused or unrouted PUBACK and a
missing commit acknowledgement re-send the batch with its id, in order; a lost connection or client
hands batches back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from meterhub.core.mqtt_contract import CommitAck, parse_batch
from meterhub.core.readings import Reading
from meterhub.gateway.batching import BatchPolicy
from meterhub.gateway.clock import ScaledClock, WallClock
from meterhub.gateway.forwarder import Forwarder
from meterhub.gateway.outbox import Outbox

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Harness:
    def __init__(self, tmp: Path, **kwargs: object) -> None:
        self.now = T0
        self.sent: list[tuple[int, str, int]] = []  # mid, batch_id, readings
        self.accept = True
        self.box = Outbox(tmp / "o.sqlite3", clock=lambda: self.now)
        self.fw = Forwarder(
            self.box, self.publish, gateway_id="gw-1", building_id="B-001",
            policy=BatchPolicy(2, timedelta(seconds=5)), clock=lambda: self.now, **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        self.fw.set_connected(True)

    def publish(self, payload: bytes) -> int | None:
        if not self.accept:
            return None
        batch = parse_batch(payload)
        mid = len(self.sent) + 1
        self.sent.append((mid, batch.batch_id, len(batch.readings)))
        return mid

    def commit(self, *batch_ids: str, dead: tuple[str, ...] = ()) -> None:
        self.fw.committed(
            CommitAck(
                schema_version=1, gateway_id="gw-1", building_id="B-001", committed_at=self.now,
                batch_ids=list(batch_ids), dead_lettered=list(dead),
            )
        )  # fmt: skip

    def puback_all(self) -> None:
        for mid, _, _ in self.sent:
            self.fw.published(mid, True, "Success")

    def add(self, n: int) -> None:
        readings = [
            Reading("EAS-1", "energy_import_kwh", self.now + timedelta(seconds=i), float(i)) for i in range(n)
        ]
        self.fw.readings_added(self.box.add(readings).stored)


def test_batches_by_size_then_by_time(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.add(3)
    wake = h.fw.pump()
    assert [n for _, _, n in h.sent] == [2]  # a full batch at once, one reading waits
    assert wake == T0 + timedelta(seconds=5)
    h.now += timedelta(seconds=4)
    assert h.fw.pump() == wake and len(h.sent) == 1
    h.now += timedelta(seconds=1)
    h.fw.pump()
    assert [n for _, _, n in h.sent] == [2, 1]
    h.puback_all()
    assert h.box.backlog == 3 and not h.fw.idle  # the broker took them; nothing is committed yet
    h.commit(*[b for _, b, _ in h.sent])
    assert h.box.backlog == 0 and h.fw.idle and h.fw.acked_readings == 3


def test_no_puback_code_deletes_anything_only_the_commit_ack_does(tmp_path: Path) -> None:
    h = Harness(tmp_path, retry_after=timedelta(seconds=5))
    h.add(4)
    h.fw.pump()
    (m1, b1, _), (m2, b2, _) = h.sent
    h.fw.published(m1, True, "Success")
    h.fw.published(m2, False, "No matching subscribers")  # nobody took it: held, sent again later
    assert h.box.backlog == 4
    h.now += timedelta(seconds=5)
    h.fw.pump()
    assert h.sent[-1][1] == b2  # the same id
    h.commit(b2)
    assert h.box.backlog == 2 and h.fw.acked_readings == 2
    h.commit(b2)  # a repeated acknowledgement changes nothing
    h.commit("not-a-batch-of-ours")
    assert h.box.backlog == 2 and h.fw.acked_batches == 1
    h.commit(b1)
    h.fw.published(h.sent[-1][0], True, "Success")
    assert h.box.backlog == 0 and h.fw.idle


def test_unacknowledged_batches_are_resent_in_order_after_the_commit_timeout(tmp_path: Path) -> None:
    h = Harness(tmp_path, commit_timeout=timedelta(seconds=30), max_inflight=10)
    h.add(6)
    h.fw.pump()
    first = [b for _, b, _ in h.sent]
    assert len(first) == 3
    h.puback_all()
    h.commit(first[1])  # the middle one is committed; the others were lost (e.g. a broker restart)
    wake = h.fw.pump()
    assert wake == T0 + timedelta(seconds=30) and len(h.sent) == 3
    h.now = wake
    h.fw.pump()
    assert [b for _, b, _ in h.sent[3:]] == [first[0], first[2]]  # oldest first, same ids
    assert h.fw.resent_batches == 2
    h.puback_all()
    assert h.fw.pump() == h.now + timedelta(seconds=60)  # the timeout doubles per attempt
    h.commit(first[0], first[2])
    assert h.box.backlog == 0 and h.fw.idle


def test_the_window_of_uncommitted_batches_pauses_cutting(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_uncommitted=2, max_inflight=10)
    h.add(10)
    h.fw.pump()
    assert len(h.sent) == 2  # 8 readings wait for room
    h.puback_all()
    h.fw.pump()
    assert len(h.sent) == 2
    h.commit(h.sent[0][1])
    h.fw.pump()
    assert len(h.sent) == 3 and h.box.backlog == 8


def test_a_restarted_forwarder_resends_every_stored_batch_with_its_id(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.add(6)
    h.fw.pump()
    h.puback_all()
    sent = [b for _, b, _ in h.sent]
    h.commit(sent[0])
    h.box.close()
    again = Harness(tmp_path)  # a new process on the same outbox
    again.fw.pump()
    assert [b for _, b, _ in again.sent] == sent[1:]
    again.commit(*sent[1:], dead=(sent[2],))  # one refused for good by the ingest: deleted too
    assert again.box.backlog == 0


def test_refused_puback_keeps_the_batch_and_resends_it_with_its_id(tmp_path: Path) -> None:
    h = Harness(tmp_path, retry_after=timedelta(seconds=5))
    h.add(2)
    h.fw.pump()
    ((mid, batch_id, _),) = h.sent
    h.fw.published(mid, False, "Not authorized")
    assert h.box.backlog == 2 and h.fw.inflight == {}
    h.add(4)
    assert h.fw.pump() == T0 + timedelta(seconds=5) and len(h.sent) == 1  # held; no new batches meanwhile
    h.now += timedelta(seconds=5)
    h.fw.pump()
    assert [b for _, b, _ in h.sent] == [batch_id, batch_id]  # the same batch id again, alone
    h.fw.published(h.sent[1][0], False, "Not authorized")
    assert h.fw.pump() == h.now + timedelta(seconds=10)  # backing off
    h.now += timedelta(seconds=10)
    h.fw.pump()
    h.fw.published(h.sent[2][0], True, "Success")
    h.fw.pump()
    assert [n for _, _, n in h.sent[3:]] == [2, 2]  # accepted again: the waiting readings go
    assert h.sent[2][1] == batch_id and h.box.backlog == 6  # kept until committed


def test_publish_refused_while_disconnected_and_client_replaced(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    h.add(2)
    h.accept = False  # paho says: not connected
    h.fw.pump()
    assert h.sent == [] and h.box.backlog == 2
    h.accept = True
    h.fw.pump()
    ((mid, batch_id, _),) = h.sent
    h.fw.forget_inflight()  # the MQTT client was replaced: its in-flight messages are gone
    h.fw.published(mid, True, "Success")  # a late PUBACK of the old client is ignored
    assert h.box.backlog == 2 and h.fw.inflight == {}
    h.fw.pump()
    assert h.sent[-1][1] == batch_id
    h.fw.set_connected(False)
    h.add(2)
    assert h.fw.pump() is None and len(h.sent) == 2  # nothing goes out while disconnected


def test_inflight_window_is_respected(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_inflight=3)
    h.add(20)
    h.fw.pump()
    assert len(h.sent) == 3
    h.fw.published(h.sent[0][0], True, "Success")
    h.fw.pump()
    assert len(h.sent) == 4 and len(h.fw.inflight) == 3


def test_payload_is_the_contract_envelope(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    payloads: list[bytes] = []
    h.fw.publish = lambda p: payloads.append(p) or 1  # type: ignore[assignment, func-returns-value]
    h.add(2)
    h.fw.pump()
    data = json.loads(payloads[0])
    assert data["schema_version"] == 1 and data["gateway_id"] == "gw-1" and data["building_id"] == "B-001"
    assert data["sent_at"] == T0.isoformat()


def test_clocks() -> None:
    scaled = ScaledClock(T0, speed=3600.0)
    assert abs((scaled.now() - T0).total_seconds()) < 60

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await scaled.sleep_until(scaled.now() + timedelta(minutes=3))  # 3 simulated minutes = 0.05 s
        wake = asyncio.Event()
        loop.call_later(0.05, wake.set)
        await WallClock().sleep_until(None, wake)  # woken by the event, not by time
        await WallClock().sleep_until(datetime.now(UTC) - timedelta(seconds=1), wake)  # past: at once
        return loop.time() - started

    assert asyncio.run(scenario()) < 1.0


def test_a_cancelled_sleep_ends_even_when_its_event_fires_at_the_same_time() -> None:
    """Python 3.11's ``wait_for`` swallows such a cancellation; a gateway task would then never end."""

    async def scenario() -> bool:
        wake = asyncio.Event()
        task = asyncio.create_task(WallClock().sleep_until(None, wake))
        await asyncio.sleep(0.01)
        wake.set()
        await asyncio.sleep(0)  # the inner wait finishes; the sleeper has not resumed yet
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert asyncio.run(scenario())


def test_a_reconnect_forgets_owed_pubacks_and_pump_never_asks_to_wake_in_the_past(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_inflight=2, commit_timeout=timedelta(seconds=3))
    h.add(8)
    h.fw.pump()
    assert len(h.sent) == 2 and len(h.fw.inflight) == 2  # the window is full, no PUBACK yet
    h.now += timedelta(seconds=10)  # the commit timeouts passed while the PUBACKs are still owed
    wake = h.fw.pump()
    assert wake is not None and wake > h.now  # not a time in the past: the loop would spin
    h.fw.set_connected(False)
    h.fw.set_connected(True)  # a new connection: the old PUBACKs will not come
    assert h.fw.inflight == {}
    h.fw.pump()
    assert [b for _, b, _ in h.sent[2:4]] == [b for _, b, _ in h.sent[:2]]  # re-sent, same ids, in order
