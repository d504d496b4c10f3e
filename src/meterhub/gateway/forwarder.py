"""Moves readings from the outbox to the broker and deletes them when the ingest has committed them.

One asyncio task. A batch goes through::

    claimed (in the outbox) ──publish──▶ awaiting PUBACK ──PUBACK──▶ awaiting the commit ack
        ▲                                    │ refused / "no matching subscribers"    │ CommitAck
        └──────── re-sent, same batch_id ◀───┴──── commit_timeout passed ◀────────────┤
                                                                                    deleted

* A batch is deleted from the outbox only when a ``CommitAck`` from the ingest names its id (it is
  committed in the database). A PUBACK only frees a place in the MQTT window (``max_inflight``); a
  PUBACK with a failure code (not authorised, quota exceeded, packet too large) or with 0x10 "no
  matching subscribers" (nobody took it: no ingest subscribed) holds the batch and re-sends it after
  ``retry_after``, doubling up to 5 minutes while that goes on, and no new batch is cut meanwhile.
* A batch not acknowledged ``commit_timeout`` after it was sent is sent again with its id and
  readings (the broker lost it in a restart without persistence, the ingest was away, or the
  acknowledgement was lost); the timeout doubles per attempt up to ``commit_timeout_max`` (5 minutes
  by default: a fleet does not flood a broker whose ingest is away). Re-sends go out in the
  order the batches were cut, before any new batch.
* At most ``max_uncommitted`` batches are out awaiting their commit; a full window pauses cutting.
* A gateway that restarts re-sends every batch of its outbox, oldest first, with its id.

Re-sends are harmless (the ingest stores a reading once: the unique key); loss is not possible short
of the outbox's own bound (see ``outbox.py``).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from meterhub.core.mqtt_contract import CommitAck, encode_batch
from meterhub.gateway.batching import BatchPolicy
from meterhub.gateway.outbox import Outbox

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = timedelta(minutes=5)

Clock = Callable[[], datetime]
Publish = Callable[[bytes], "int | None"]


@dataclass(slots=True)
class _Sent:
    """A published batch awaiting its commit acknowledgement."""

    due: datetime  # re-send when no CommitAck came by then
    attempts: int  # times published


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
        commit_timeout: timedelta = timedelta(seconds=30),
        commit_timeout_max: timedelta = MAX_RETRY_AFTER,
        max_uncommitted: int = 20,
    ) -> None:
        self.outbox = outbox
        self.publish = publish
        self.gateway_id = gateway_id
        self.building_id = building_id
        self.policy = policy
        self.clock = clock
        self.max_inflight = max_inflight
        self.retry_after = retry_after
        self.commit_timeout = commit_timeout
        self.commit_timeout_max = max(commit_timeout_max, commit_timeout)
        self.max_uncommitted = max_uncommitted
        self.connected = False
        self.stopped = False  # set at shutdown; run() ends at its next turn
        self.inflight: dict[int, str] = {}  # mid → batch_id, awaiting PUBACK
        self._sent: dict[str, _Sent] = {}  # published, awaiting the commit acknowledgement
        self._order: dict[str, int] = {}  # batch_id → position in cutting order
        self._next_order = 0
        self._resend: list[str] = []  # to (re)publish, in cutting order
        for batch_id in outbox.pending_batch_ids():  # claimed before a restart, oldest first
            self._queue_resend(batch_id)
        self._attempts: dict[str, int] = {}  # batch_id → publications so far (kept across re-sends)
        self._held: dict[str, datetime] = {}  # batch_id → not before (refused by the broker)
        self._refusals: dict[str, int] = {}  # batch_id → refusals in a row
        self._oldest_unclaimed: datetime | None = (
            None if outbox.unclaimed == 0 else clock() - policy.batch_time  # left from before: send now
        )
        self._wake = asyncio.Event()
        self._warned_timeout = False
        self.sent_batches = 0
        self.resent_batches = 0  # publications after the first of a batch
        self.acked_batches = 0  # deleted after a commit acknowledgement
        self.acked_readings = 0
        if self._resend:
            log.info(
                "outbox holds %d unacknowledged batch(es) from before; re-sending them with their ids",
                len(self._resend),
            )

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
        if connected and not self.connected:
            # PUBACKs owed on the previous connection may never come (the broker restarted): stop
            # waiting for them; the batches stay awaiting their commit and go again on its timeout
            self.inflight.clear()
        self.connected = connected
        self._wake.set()

    def forget_inflight(self) -> None:
        """The MQTT client was replaced: what was in flight must be published again."""
        for batch_id in self.inflight.values():
            self._sent.pop(batch_id, None)
            self._queue_resend(batch_id)
        self.inflight.clear()
        self._wake.set()

    def published(self, mid: int, ok: bool, reason: str) -> None:
        """A PUBACK: ``ok`` False for a refusal and for "no matching subscribers" (nobody took it)."""
        batch_id = self.inflight.pop(mid, None)
        if batch_id is None:
            return  # a status message, or a mid from a replaced client
        if ok:
            self._refusals.pop(batch_id, None)
        elif batch_id in self._sent:  # not committed meanwhile: hold it and send it again later
            self._sent.pop(batch_id)
            refusals = self._refusals[batch_id] = self._refusals.get(batch_id, 0) + 1
            delay = min(self.retry_after * 2 ** (refusals - 1), MAX_RETRY_AFTER)
            log.log(
                logging.WARNING if refusals == 1 else logging.DEBUG,
                "broker did not take batch %s: %s; keeping it, re-sending in %s (new batches wait meanwhile)",
                batch_id,
                reason,
                delay,
            )
            self._held[batch_id] = self.clock() + delay
            self._queue_resend(batch_id)
        self._wake.set()

    def committed(self, ack: CommitAck) -> None:
        """The ingest committed these batches: delete them from the outbox."""
        if ack.gateway_id != self.gateway_id or ack.building_id != self.building_id:
            log.warning("ignoring a commit acknowledgement for %s/%s", ack.building_id, ack.gateway_id)
            return
        dead = set(ack.dead_lettered)
        for batch_id in ack.batch_ids:
            try:
                deleted = self.outbox.ack(batch_id)
            except sqlite3.Error as exc:  # not deleted: it goes again later (a duplicate, never a loss)
                log.error("outbox %s: cannot delete committed batch %s: %s", self.outbox.path, batch_id, exc)
                continue
            known = self._forget(batch_id)
            if not deleted and not known:
                continue  # a repeated acknowledgement of a batch already deleted
            self.acked_batches += 1
            self.acked_readings += deleted
            self._warned_timeout = False
            if batch_id in dead:
                log.warning(
                    "the ingest refused batch %s (%d readings) for good; it is kept in its dead letters, "
                    "not in the readings — see docs/mqtt.md, Errors",
                    batch_id,
                    deleted,
                )
        self._wake.set()

    def _forget(self, batch_id: str) -> bool:
        known = batch_id in self._order
        self._sent.pop(batch_id, None)
        self._held.pop(batch_id, None)
        self._refusals.pop(batch_id, None)
        self._attempts.pop(batch_id, None)
        self._order.pop(batch_id, None)
        if batch_id in self._resend:
            self._resend.remove(batch_id)
        return known

    # --- the pump -----------------------------------------------------------------------------------
    def pump(self) -> datetime | None:
        """Publish what may go now; returns when to look again without a new event (None: on an event)."""
        now = self.clock()
        self._requeue_timed_out(now)
        if not self.connected:
            return None
        next_wake: datetime | None = None
        while len(self.inflight) < self.max_inflight:
            batch_id = self._next_resend(now)
            if batch_id is not None:
                batch = self.outbox.load(batch_id)
                if batch is None or not batch.readings:
                    self._forget(batch_id)
                    continue
            else:
                if self._refusals:  # the broker refuses our batches: do not pile up new ones
                    break
                if len(self._sent) >= self.max_uncommitted:  # the window is full: wait for commits
                    break
                if not self.policy.ready(self.outbox.unclaimed, self._oldest_unclaimed, now):
                    next_wake = self.policy.wake_at(self.outbox.unclaimed, self._oldest_unclaimed)
                    break
                batch = self.outbox.claim(self.policy.batch_size)
                if batch is None:
                    self._oldest_unclaimed = None
                    break
                self._oldest_unclaimed = now if self.outbox.unclaimed else None
                self._note_order(batch.batch_id)
            payload = encode_batch(batch.batch_id, self.gateway_id, self.building_id, now, batch.readings)
            mid = self.publish(payload)
            if mid is None:  # the connection dropped under us: try again after reconnecting
                self._queue_resend(batch.batch_id)
                break
            attempts = self._attempts[batch.batch_id] = self._attempts.get(batch.batch_id, 0) + 1
            self.inflight[mid] = batch.batch_id
            self._sent[batch.batch_id] = _Sent(now + self._timeout(attempts), attempts)
            self.sent_batches += 1
            if attempts > 1:
                self.resent_batches += 1
        waits = [*self._held.values(), *(sent.due for sent in self._sent.values())]
        if next_wake is not None:
            waits.append(next_wake)
        future = [w for w in waits if w > now]
        next_wake = min(future) if future else None
        if len(future) < len(waits):  # something is due but waits for room in the window: an event
            # (a PUBACK) will come; look again in a second anyway rather than spin on a past time
            poll = now + self.retry_after / 5
            next_wake = poll if next_wake is None else min(next_wake, poll)
        return next_wake

    def _timeout(self, attempts: int) -> timedelta:
        return min(self.commit_timeout * 2 ** min(attempts - 1, 16), self.commit_timeout_max)

    def _requeue_timed_out(self, now: datetime) -> None:
        """Batches sent long enough ago without a commit acknowledgement go again (oldest first)."""
        waiting = set(self.inflight.values())
        late = [b for b, s in self._sent.items() if s.due <= now and b not in waiting]
        if not late:
            return
        if not self._warned_timeout:
            self._warned_timeout = True
            log.warning(
                "%d batch(es) not acknowledged as committed within %s; re-sending them with their ids "
                "(is the ingest running and allowed to publish to %s/%s/commits?)",
                len(late),
                self.commit_timeout,
                self.building_id,
                self.gateway_id,
            )
        for batch_id in late:
            del self._sent[batch_id]
            self._queue_resend(batch_id)

    def _note_order(self, batch_id: str) -> None:
        self._order[batch_id] = self._next_order
        self._next_order += 1

    def _queue_resend(self, batch_id: str) -> None:
        if batch_id not in self._order:
            self._note_order(batch_id)
        if batch_id not in self._resend:
            self._resend.append(batch_id)
            self._resend.sort(key=self._order.__getitem__)

    def _next_resend(self, now: datetime) -> str | None:
        for i, batch_id in enumerate(self._resend):
            not_before = self._held.get(batch_id)
            if not_before is None or not_before <= now:
                self._held.pop(batch_id, None)
                return self._resend.pop(i)
        return None

    async def run(self, sleep_until: Callable[[datetime | None, asyncio.Event], object]) -> None:
        """Pump on every event and whenever something comes due; until cancelled or ``stopped``."""
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
        """Nothing waiting, nothing in flight, nothing awaiting its commit."""
        return self.outbox.backlog == 0 and not self.inflight and not self._sent

    @property
    def uncommitted(self) -> int:
        """Batches published and awaiting the commit acknowledgement."""
        return len(self._sent)
