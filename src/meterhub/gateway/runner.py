"""The gateway process: poll devices on schedule → outbox → MQTT, with status and a clean stop.

Tasks on one asyncio loop:

* one task per device (its :class:`DeviceSchedule`): read at each slot, store the readings in the
  outbox, update the device's health — a slow or dead device only delays itself;
* the :class:`Forwarder`, publishing batches and deleting them when the ingest acknowledges their
  commit (``…/commits``, subscribed on every connect);
* the status task, republishing the retained status on a health change and every ``status_interval``.

``stop()`` (SIGTERM/SIGINT in ``run_gateway``) ends polling, lets the forwarder flush for up to
``flush_timeout``, publishes the retained ``offline`` status, disconnects and closes the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
from datetime import datetime, timedelta

from meterhub.core.mqtt_contract import (
    ClockSteppedBack,
    ContractError,
    commits_topic,
    parse_commit_ack,
    readings_topic,
    status_topic,
)
from meterhub.gateway.batching import BatchPolicy
from meterhub.gateway.clock import GatewayClock, WallClock
from meterhub.gateway.config import GatewayConfig
from meterhub.gateway.devices import DeviceReader, Readers, ReadOutcome, build_readers
from meterhub.gateway.forwarder import Forwarder
from meterhub.gateway.health import HealthBoard, encode_status
from meterhub.gateway.mqtt_link import LinkHandlers, MqttLink
from meterhub.gateway.outbox import Outbox
from meterhub.gateway.schedule import DeviceSchedule
from meterhub.gateway.stamping import SecondGuard, next_second

log = logging.getLogger(__name__)

STOP_WAIT = 2.0  # seconds a task gets to end after cancellation at shutdown


class GatewayStartError(RuntimeError):
    """The gateway cannot start (the outbox cannot be opened); the message says what to fix."""


class Gateway:
    """One building's gateway. ``await gateway.run()`` until ``gateway.stop()``."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        clock: GatewayClock | None = None,
        readers: Readers | None = None,
        flush_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        self.config = config
        self.clock = clock or WallClock()
        self.flush_timeout = flush_timeout
        g = config.gateway
        self.readings_topic = readings_topic(g.building, g.id)
        self.status_topic = status_topic(g.building, g.id)
        self.commits_topic = commits_topic(g.building, g.id)
        self._readers = readers
        self.readers: list[DeviceReader] = []
        self.health: HealthBoard | None = None
        self.outbox: Outbox | None = None
        self.forwarder: Forwarder | None = None
        self.link: MqttLink | None = None
        self._stop = asyncio.Event()
        self._status_due = asyncio.Event()
        self._awaited_acks: dict[int, asyncio.Event] = {}
        self.polls = 0
        self.store_errors = 0
        self.seconds = SecondGuard()  # readings stamped at whole seconds, one per series and second
        self.replaced = 0  # readings whose later value of the same second replaced the stored one
        self.superseded = 0  # later values of a second whose first value was already sent: not stored
        # the clock found behind the last stamped second (docs/gateway.md, "A clock stepped back"):
        # durable counters since the outbox was created, read from it at start
        self.hold_recheck = timedelta(seconds=30)  # a held read looks at the clock again this often
        self.clock_episodes = 0
        self.clock_held_reads = 0
        self.clock_restamped = 0
        self._clock_behind = False

    # --- lifecycle ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the gateway to stop (safe from a signal handler on the loop)."""
        self._stop.set()

    async def run(self) -> None:
        config, clock = self.config, self.clock
        g = config.gateway
        loop = asyncio.get_running_loop()
        ob = config.outbox
        try:
            self.outbox = Outbox(
                ob.path,
                max_readings=ob.max_readings,
                max_bytes=ob.max_bytes,
                warn_at=ob.warn_at,
                billing_reserve=ob.billing_reserve,
                clock=clock.now,
            )
        except (OSError, sqlite3.Error) as exc:
            raise GatewayStartError(
                f"cannot open the outbox {ob.path}: {exc}; check [outbox] path (a writable file on "
                "persistent storage)"
            ) from None
        self.seconds = SecondGuard(self.outbox.last_stamps())  # this outbox's last stamps, across restarts
        self.clock_episodes = self.outbox.counter("clock_episodes")
        self.clock_held_reads = self.outbox.counter("clock_held_reads")
        self.clock_restamped = self.outbox.counter("clock_restamped")
        readers = self._readers or build_readers(config, clock.now)
        self.readers = readers.readers
        self.health = HealthBoard(g.id, g.building, [r.name for r in self.readers])
        speed = float(getattr(clock, "speed", 1.0))
        self.forwarder = Forwarder(
            self.outbox,
            self._publish_batch,
            gateway_id=g.id,
            building_id=g.building,
            policy=BatchPolicy(ob.batch_size, ob.batch_time),
            clock=clock.now,
            max_inflight=config.mqtt.max_inflight,
            # waits for the broker and the ingest are real time: on a simulated clock running
            # ``speed`` times faster (the demo) they last ``speed`` times as many simulated seconds
            retry_after=timedelta(seconds=5) * speed,
            commit_timeout=config.mqtt.commit_timeout * speed,
            commit_timeout_max=config.mqtt.commit_timeout_max * speed,
            max_uncommitted=config.mqtt.max_uncommitted,
        )
        will = encode_status(self.health.status("offline", clock.now(), with_devices=False))
        self.link = MqttLink(
            config.mqtt,
            config.mqtt.client_id or f"meterhub-{g.building}-{g.id}",
            self.status_topic,
            will,
            LinkHandlers(
                self._on_connected,
                self._on_disconnected,
                self._on_published,
                self.forwarder.forget_inflight,
                self._on_message,
            ),
            loop,
            subscriptions=(self.commits_topic,),
        )
        capacity = self.outbox.capacity()
        log.info(
            "gateway %s of building %s (%s): %d device(s), outbox %s holds %s",
            g.id,
            g.building,
            g.timezone,
            len(self.readers),
            ob.path,
            capacity.describe(),
        )
        self.link.start()
        tasks = [asyncio.create_task(self._poll_device(r), name=f"poll {r.name}") for r in self.readers]
        forwarder_task = asyncio.create_task(self.forwarder.run(clock.sleep_until), name="forwarder")
        status_task = asyncio.create_task(self._status_loop(), name="status")
        try:
            await self._stop.wait()
        finally:
            log.info("stopping: no more polls; flushing the outbox for up to %s", self.flush_timeout)
            self._stop.set()  # loops check it too: a cancellation swallowed inside a driver cannot keep them
            await _end([*tasks, status_task], STOP_WAIT)
            await self._flush()
            self.forwarder.stopped = True
            await _end([forwarder_task], STOP_WAIT)
            await self._publish_offline()
            await asyncio.to_thread(self.link.stop)  # joins paho's thread: keep the loop free meanwhile
            readers.close()
            left = self.outbox.backlog
            self.outbox.close()
            log.info("stopped; %d reading(s) left in the outbox for the next start", left)

    # --- polling ----------------------------------------------------------------------------------
    async def _poll_device(self, reader: DeviceReader) -> None:
        config, clock = self.config, self.clock
        s = config.schedule
        schedule = DeviceSchedule(
            f"{config.gateway.id}/{reader.name}",
            config.interval_of(reader.config),
            config.gateway.zone,
            max_jitter=s.max_jitter,
            billing_retry=s.billing_retry,
            read_on_start=s.read_on_start,
        )
        started = clock.now()
        slot = schedule.first(started)
        # not in the second the gateway started in: a previous run of this gateway (same outbox, same
        # devices) may have read the device in that second just before it stopped, and a start-up read
        # stamped in it would repeat that key (the guard below remembers only this run's seconds)
        free_at = next_second(started)
        while not self._stop.is_set():
            # never two reads of a device in one second (a start-up read followed at once by a slot
            # read): their readings would share the key (series, ts) at whole seconds
            if not await self._wait_to_read(reader.name, max(slot.due, free_at)):
                return
            try:
                outcome = await reader.read()
            except Exception as exc:  # a reader bug must not stop this device's schedule for good
                log.exception("device %s: unexpected error while reading", reader.name)
                outcome = ReadOutcome(False, error=f"internal error: {exc!r}")
            now = clock.now()
            free_at = next_second(now)
            self.polls += 1
            assert self.health is not None and self.outbox is not None and self.forwarder is not None
            if outcome.ok:
                self._store(reader.name, outcome.readings, billing=slot.kind.is_billing)
                changed = self.health.success(reader.name, now, {r.meter_id for r in outcome.readings})
            else:
                changed = self.health.failure(reader.name, now, outcome.error or "read failed")
                if slot.kind.is_billing:
                    log.warning(
                        "device %s: %s read of %s failed: %s",
                        reader.name,
                        slot.kind.value,
                        slot.at.astimezone(config.gateway.zone).isoformat(),
                        outcome.error,
                    )
            self._check_clock(reader.name)  # an episode starts or ends: logged once, status republished
            if changed:
                self._status_due.set()
            slot = schedule.done(slot, ok=outcome.ok, now=now)

    async def _wait_to_read(self, device: str, due: datetime) -> bool:
        """Sleep until ``due`` and until the clock is past the device's last stamped second (a clock
        stepped back holds the read), looking at the clock every ``hold_recheck`` so a clock set right
        meanwhile is noticed; False when the gateway stops."""
        clock = self.clock
        counted = False
        while not self._stop.is_set():
            now = clock.now()
            hold = self.seconds.hold_until(device)
            target = due if hold is None else max(due, hold)
            if now >= target:
                return True
            if not counted and self.seconds.device_behind(device, now):
                counted = True
                self.clock_held_reads = self._bump("clock_held_reads", self.clock_held_reads)
            self._check_clock(device)
            await clock.sleep_until(min(target, now + self.hold_recheck), self._stop)
        return False

    def _bump(self, key: str, value: int, by: int = 1) -> int:
        """A durable clock counter in the outbox; the in-memory count goes on if the disk fails."""
        assert self.outbox is not None
        try:
            return self.outbox.bump_counter(key, by)
        except sqlite3.Error as exc:
            log.error("outbox %s: %s while counting %s", self.outbox.path, exc, key)
            return value + by

    def _check_clock(self, device: str = "") -> timedelta:
        """How far the clock is behind the last stamped second; logs once when an episode starts and
        once when the clock has caught up, and has the status republished at both."""
        behind = self.seconds.behind(self.clock.now())
        if behind and not self._clock_behind:
            self._clock_behind = True
            self.clock_episodes = self._bump("clock_episodes", self.clock_episodes)
            self._status_due.set()
            log.warning(
                "the clock is %s behind the last reading time stamped%s: it was stepped back (an NTP "
                "correction, an RTC reset after a power cut?). Reads wait until the clock passes it; a "
                "read under way is stamped one second after its series' last, marked uncertain. Check "
                "chrony/NTP and the RTC battery",
                behind,
                f" (device {device})" if device else "",
            )
        elif not behind and self._clock_behind:
            self._clock_behind = False
            self._status_due.set()
            log.info(
                "the clock has passed the last reading time stamped; reads go on (so far %d read(s) "
                "held, %d reading(s) restamped)",
                self.clock_held_reads,
                self.clock_restamped,
            )
        return behind

    def _store(self, device: str, readings: list, *, billing: bool) -> None:
        """Into the outbox, stamped at whole seconds (``stamping``); a storage error (disk full, I/O
        error) is logged loudly, never fatal.

        A reading in a second already stored for its series replaces the stored value while that is
        still waiting in the outbox (the later value wins); once it has been put in a batch the first
        value is on its way and the later one is not stored (logged): the ingest never sees two values
        for one ``(series, ts)``."""
        assert self.outbox is not None and self.forwarder is not None
        readings, repeats = self.seconds.admit(readings, device)
        restamped = self.seconds.restamped
        try:
            if restamped:
                self.clock_restamped = self._bump("clock_restamped", self.clock_restamped, len(restamped))
                original, first = restamped[0]
                log.info(  # the warning is _check_clock's, once per episode
                    "device %s: %d reading(s) read with the clock behind their series' last second, "
                    "stamped one second after it and marked uncertain (e.g. %s %s: %s → %s)",
                    device,
                    len(restamped),
                    first.meter_id,
                    first.register,
                    original.isoformat(),
                    first.ts.isoformat(),
                )
            if repeats:
                sent = self.outbox.replace_unclaimed(repeats, billing=billing)
                self.replaced += len(repeats) - len(sent)
                if sent:
                    self.superseded += len(sent)
                    log.warning(
                        "device %s: %d reading(s) read again within the second %s, whose first value "
                        "is already sent; keeping the first (e.g. %s %s)",
                        device,
                        len(sent),
                        sent[0].ts.isoformat(),
                        sent[0].meter_id,
                        sent[0].register,
                    )
            result = self.outbox.add(readings, billing=billing, device=device)
        except sqlite3.Error as exc:
            self.store_errors += 1
            log.error(
                "device %s: could not store %d reading(s) in the outbox %s: %s — they are lost; "
                "check the disk",
                device,
                len(readings),
                self.outbox.path,
                exc,
            )
            return
        self.forwarder.readings_added(result.stored)

    # --- MQTT -------------------------------------------------------------------------------------
    def _publish_batch(self, payload: bytes) -> int | None:
        assert self.link is not None
        return self.link.publish(self.readings_topic, payload)

    def _on_connected(self) -> None:
        assert self.forwarder is not None
        self.forwarder.set_connected(True)
        self._status_due.set()

    def _on_published(self, mid: int, ok: bool, reason: str) -> None:
        awaited = self._awaited_acks.pop(mid, None)
        if awaited is not None:
            awaited.set()
            return
        assert self.forwarder is not None
        self.forwarder.published(mid, ok, reason)

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic != self.commits_topic:
            return
        try:
            ack = parse_commit_ack(payload)
        except ContractError as exc:
            log.warning("ignoring a malformed commit acknowledgement on %s: %s", topic, exc.detail)
            return
        assert self.forwarder is not None
        try:
            self.forwarder.committed(ack)
        except sqlite3.Error as exc:  # kept: the batch is sent again and acknowledged again
            log.error("outbox %s: %s while deleting committed batches", self.config.outbox.path, exc)

    def _on_disconnected(self, reason: str) -> None:
        assert self.forwarder is not None
        self.forwarder.set_connected(False)

    def current_status(self, state: str = "online") -> bytes:
        assert self.health is not None and self.outbox is not None
        return encode_status(
            self.health.status(
                state,
                self.clock.now(),
                backlog=self.outbox.backlog,
                oldest=self.outbox.oldest_ts(),
                dropped=self.outbox.dropped,
                clock=self._clock_status(),
            )
        )

    def _clock_status(self) -> ClockSteppedBack | None:
        if not self.clock_episodes:
            return None  # never happened: left out of the status (older ingests accept the document)
        behind = self._check_clock()
        return ClockSteppedBack(
            episodes=self.clock_episodes,
            held_reads=self.clock_held_reads,
            restamped=self.clock_restamped,
            behind_s=behind.total_seconds() if behind else None,
        )

    async def _status_loop(self) -> None:
        interval = self.config.mqtt.status_interval
        while not self._stop.is_set():
            assert self.link is not None
            if self.link.connected:
                self.link.publish(self.status_topic, self.current_status(), retain=True)
            self._status_due.clear()
            await self.clock.sleep_until(self.clock.now() + interval, self._status_due)

    async def _flush(self) -> None:
        assert self.forwarder is not None and self.link is not None
        deadline = asyncio.get_running_loop().time() + self.flush_timeout.total_seconds()
        while asyncio.get_running_loop().time() < deadline:
            if self.forwarder.idle or not self.link.connected:
                break
            self.forwarder.flush_now()
            await asyncio.sleep(0.05)

    async def _publish_offline(self) -> None:
        """Retained ``offline`` status, waited for briefly (a clean disconnect sends no LWT)."""
        assert self.link is not None
        if not self.link.connected:
            return
        mid = self.link.publish(self.status_topic, self.current_status("offline"), retain=True)
        if mid is None:
            return
        acked = self._awaited_acks[mid] = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(acked.wait(), 2.0)


async def _end(tasks: list[asyncio.Task], wait: float) -> None:
    """Cancel tasks and give them ``wait`` seconds; one that does not end is left behind with a warning
    (Python 3.11's ``wait_for`` can swallow a cancellation, e.g. inside a Modbus driver) — its loop
    sees the stop flag at its next turn."""
    for task in tasks:
        task.cancel()
    _, pending = await asyncio.wait(tasks, timeout=wait)
    for task in pending:
        log.warning("task %s did not stop within %.0f s; leaving it behind", task.get_name(), wait)


def run_gateway(config: GatewayConfig, clock: GatewayClock | None = None) -> None:
    """Run until SIGTERM or SIGINT (the ``meterhub gateway`` command)."""

    async def main() -> None:
        gateway = Gateway(config, clock=clock)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, gateway.stop)
        await gateway.run()

    asyncio.run(main())


__all__ = ["Gateway", "GatewayStartError", "run_gateway"]
