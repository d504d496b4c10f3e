"""Moves readings from the outbox to the broker and deletes them when the broker acknowledges.

One asyncio task. While connected it keeps up to ``max_inflight`` batches awaiting PUBACK:

1. batches already claimed but not acknowledged (from before a crash, or refused by the broker)
   are re-sent first, with their original ``batch_id`` and readings;
2. then new batches are cut from unclaimed readings by the :class:`BatchPolicy` (500 readings or 5 s).

A PUBACK with an MQTT 5 success code deletes the batch from the outbox; a failure code (not
authorised, quota exceeded, …) keeps it; it is re-sent after ``retry_after``, doubling up to 5 minutes
while the refusals go on, and no new batch is cut meanwhile. A broken connection
keeps everything: paho re-sends the in-flight messages itself after reconnecting, and a gateway that
dies re-sends all claimed batches on start. Duplicates are possible (at least once); loss is not.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from meterhub.core.mqtt_contract import encode_batch
from meterhub.gateway.batching import BatchPolicy
from meterhub.gateway.outbox import Outbox

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = timedelta(minutes=5)

Clock = Callable[[], datetime]
Publish = Callable[[bytes], "int | None"]


class Forwarder:
    """The outbox → broker pump. All methods run on the event loop."""

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        *,
        gateway_id: str,
        building_id: str,
        policy: BatchPolicy,
        clock: Clock,
        max_inflight: int = 10,
        retry_after: timedelta = timedelta(seconds=5),
    ) -> None:
        self.outbox = outbox
        self.publish = publish
        self.gateway_id = gateway_id
        self.building_id = building_id
        self.policy = policy
        self.clock = clock
        self.max_inflight = max_inflight
        self.retry_after = retry_after
        self.connected = False
        self.stopped = False  # set at shutdown; run() ends at its next turn
        self.inflight: dict[int, str] = {}  # mid → batch_id
        self._resend: list[str] = outbox.pending_batch_ids()  # claimed, to (re)publish, oldest first
        self._held: dict[str, datetime] = {}  # batch_id → not before (refused by the broker)
        self._refusals: dict[str, int] = {}  # batch_id → refusals in a row
        self._oldest_unclaimed: datetime | None = (
            None if outbox.unclaimed == 0 else clock() - policy.batch_time  # left from before: send now
        )
        self._wake = asyncio.Event()
        self.sent_batches = 0
        self.acked_batches = 0
        self.acked_readings = 0
        if self._resend:
            log.info("outbox holds %d unacknowledged batch(es) from before; re-sending them with their ids",
                     len(self._resend))

    # --- events -----------------------------------------------------------------------------------
    def readings_added(self, n: int) -> None:
        if n and self._oldest_unclaimed is None:
            self._oldest_unclaimed = self.clock()
        self._wake.set()

    def flush_now(self) -> None:
        """Cut a partial batch at once (shutdown)."""
        if self.outbox.unclaimed:
            self._oldest_unclaimed = self.clock() - self.policy.batch_time
        self._wake.set()

    def set_connected(self, connected: bool) -> None:
        self.connected = connected
        self._wake.set()

    def forget_inflight(self) -> None:
        """The MQTT client was replaced: what was in flight must be published again."""
        self._resend[0:0] = [b for b in self.inflight.values() if b not in self._resend]
        self.inflight.clear()
        self._wake.set()

    def published(self, mid: int, ok: bool, reason: str) -> None:
        batch_id = self.inflight.pop(mid, None)
        if batch_id is None:
            return  # a status message, or a mid from a replaced client
        if ok:
            try:
                self.acked_readings += self.outbox.ack(batch_id)
            except sqlite3.Error as exc:  # not deleted: it goes again (a duplicate, never a loss)
                log.error("outbox %s: cannot delete acknowledged batch %s: %s", self.outbox.path,
                          batch_id, exc)
                self._held[batch_id] = self.clock() + self.retry_after
                self._resend.append(batch_id)
                self._wake.set()
                return
            self.acked_batches += 1
            self._refusals.pop(batch_id, None)
        else:
            refusals = self._refusals[batch_id] = self._refusals.get(batch_id, 0) + 1
            delay = min(self.retry_after * 2 ** (refusals - 1), MAX_RETRY_AFTER)
            log.log(
                logging.WARNING if refusals == 1 else logging.DEBUG,
                "broker refused batch %s: %s; keeping it, retrying in %s (new batches wait meanwhile)",
                batch_id, reason, delay,
            )
            self._held[batch_id] = self.clock() + delay
            self._resend.append(batch_id)
        self._wake.set()

    # --- the pump -----------------------------------------------------------------------------------
    def pump(self) -> datetime | None:
        """Publish what may go now; returns when to look again without a new event (None: on an event)."""
        if not self.connected:
            return None
        now = self.clock()
        next_wake: datetime | None = None
        while len(self.inflight) < self.max_inflight:
            batch_id = self._next_resend(now)
            if batch_id is not None:
                batch = self.outbox.load(batch_id)
                if batch is None or not batch.readings:
                    continue
            else:
                if self._refusals:  # the broker refuses our batches: do not pile up new ones
                    break
                if not self.policy.ready(self.outbox.unclaimed, self._oldest_unclaimed, now):
                    next_wake = self.policy.wake_at(self.outbox.unclaimed, self._oldest_unclaimed)
                    break
                batch = self.outbox.claim(self.policy.batch_size)
                if batch is None:
                    self._oldest_unclaimed = None
                    break
                self._oldest_unclaimed = now if self.outbox.unclaimed else None
            payload = encode_batch(batch.batch_id, self.gateway_id, self.building_id, now, batch.readings)
            mid = self.publish(payload)
            if mid is None:  # the connection dropped under us: try again after reconnecting
                self._resend.insert(0, batch.batch_id)
                break
            self.inflight[mid] = batch.batch_id
            self.sent_batches += 1
        if self._held:
            held_until = min(self._held.values())
            next_wake = held_until if next_wake is None else min(next_wake, held_until)
        return next_wake

    def _next_resend(self, now: datetime) -> str | None:
        for i, batch_id in enumerate(self._resend):
            not_before = self._held.get(batch_id)
            if not_before is None or not_before <= now:
                self._held.pop(batch_id, None)
                return self._resend.pop(i)
        return None

    async def run(self, sleep_until: Callable[[datetime, asyncio.Event], object]) -> None:
        """Pump on every event and whenever a partial batch comes due; until cancelled or ``stopped``."""
        while not self.stopped:
            self._wake.clear()
            try:
                wake_at = self.pump()
            except sqlite3.Error as exc:  # disk trouble: say so, keep trying (nothing is deleted unacked)
                log.error("outbox %s: %s; retrying in 5 s", self.outbox.path, exc)
                wake_at = self.clock() + timedelta(seconds=5)
            await sleep_until(wake_at, self._wake)  # type: ignore[misc]

    @property
    def idle(self) -> bool:
        """Nothing waiting and nothing in flight."""
        return self.outbox.backlog == 0 and not self.inflight
