"""``meterhub ingest``: MQTT → PostgreSQL with manual acknowledgement.

* Subscribes with the MQTT 5 shared subscription ``$share/ingest/meterhub/v1/+/+/readings`` so
  several ingest processes split the load (plain subscription on an MQTT 3.1.1-only broker), and to
  the gateways' status topic.
* Messages are acknowledged (PUBACK) only after the transaction holding their rows has committed
  (paho ``manual_ack``): a crash between receive and commit loses nothing, the broker redelivers.
  Right after, the ingest publishes a commit acknowledgement per gateway (``…/{gateway}/commits``,
  ``CommitAck``: the batch ids committed); that, not the PUBACK, lets the gateway delete the batches
  from its outbox — the end-to-end guarantee does not depend on the broker keeping anything.
* A stop (SIGTERM) keeps the MQTT session and thus this worker's place in the shared group: what the
  broker holds for it waits for its return. ``leave_group`` leaves the group for good (the session
  ends, the broker forgets the queue — safe only while other workers stay subscribed).
* After a lost connection paho reconnects with a bounded backoff (≤ ``reconnect_max`` seconds,
  starting at a random fraction of a second so that several workers do not reconnect in step).
* Messages are grouped (up to ``max_batch_readings`` readings or ``max_delay`` seconds, and only
  while they keep coming: a pause of ``idle_gap`` ends the group) and stored in one transaction per
  group. The pause matters: the broker sends only so many unacknowledged messages (its inflight
  window), so once the window is full nothing more arrives until this group is committed and
  acknowledged — waiting out ``max_delay`` then only adds latency.
* Groups are stored by ``writers`` threads, each with its own database connection, in turn: while
  one waits for PostgreSQL to take its COPY and commit, the next one is already collecting and
  writing the following group, so the server never idles between groups. Acknowledgements still
  leave in the order the messages came (a group's PUBACKs wait for the groups before it).
* With the database down, nothing is acknowledged; the group is retried with exponential backoff on
  a fresh connection until the database returns. A transaction PostgreSQL rolls back because of
  another writer (deadlock, serialization failure, lock timeout) is redone at once and counted in
  ``conflicts_retried``; it is not an outage.
* Dirty series are rolled up into the hourly series every ``rollup_every`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from meterhub.core.mqtt_contract import (
    MAX_BATCH_IDS_PER_ACK,
    MAX_PAYLOAD_BYTES,
    READINGS_FILTER,
    SHARED_READINGS_FILTER,
    STATUS_FILTER,
    commits_topic,
    encode_commit_ack,
)
from meterhub.timeseries.batch_decoder import decode_batch
from meterhub.timeseries.database import connect
from meterhub.timeseries.deadletter import payload_summary
from meterhub.timeseries.ingest import ReadingWriter
from meterhub.timeseries.ingest_options import (
    IngestOptions,
    IngestStats,
    is_conflict,
    return_big_buffers_to_the_system,
)
from meterhub.timeseries.message_store import InboundMessage, MessageStore, StoreResult
from meterhub.timeseries.rollup import process_dirty

log = logging.getLogger(__name__)

__all__ = ["IngestOptions", "IngestService", "IngestStats"]


@dataclass
class _Received:
    mid: int
    qos: int
    message: InboundMessage
    size_hint: int


@dataclass
class _Writer:
    """One storing thread's database connection and the store over it."""

    name: str
    conn: psycopg.Connection | None = None
    store: MessageStore | None = None


class IngestService:
    """One ingest worker: an MQTT client thread feeding a queue, and this thread writing to the DB."""

    def __init__(self, db_url: str, options: IngestOptions | None = None) -> None:
        self.db_url = db_url
        self.opt = options or IngestOptions()
        self.stats = IngestStats()
        self._stats_lock = threading.Lock()
        self._queue: queue.Queue[_Received] = queue.Queue()
        self._stop = threading.Event()
        self._done = threading.Event()  # the run is over: writer threads leave
        self._writers = [_Writer(f"writer-{i}") for i in range(max(1, self.opt.writers))]
        self._group_lock = threading.Lock()  # one thread collects a group at a time
        self._ack_lock = threading.Lock()
        self._next_seq = 0  # sequence number of the next group collected
        self._ack_seq = 0  # the next group whose PUBACKs may leave
        # committed groups waiting for earlier ones, with what their commit settles
        self._committed: dict[int, tuple[list[_Received], StoreResult]] = {}
        self._rollup_lock = threading.Lock()
        self._failure: BaseException | None = None
        self._connected = threading.Event()
        self._sub_mid: int | None = None
        self._client: mqtt.Client | None = None
        self._last_rollup = time.monotonic()
        self.protocol = mqtt.MQTTv5

    # --- MQTT side --------------------------------------------------------------------------------
    def _make_client(self, protocol: int) -> mqtt.Client:
        c = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=self.opt.client_id,
            protocol=protocol,
            manual_ack=True,
            clean_session=None if protocol == mqtt.MQTTv5 else False,
        )
        if self.opt.username:
            c.username_pw_set(self.opt.username, self.opt.password)
        url = urlparse(self.opt.broker_url)
        if url.scheme == "mqtts":
            c.tls_set()
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        # bounded, and jittered so that several workers do not hit a restarted broker in step
        first = random.uniform(0.2, 1.0)
        c.reconnect_delay_set(min_delay=first, max_delay=max(first, self.opt.reconnect_max))  # type: ignore[arg-type]
        return c

    def _subscriptions(self) -> list[tuple[str, int]]:
        shared = self.opt.shared
        if shared is None:
            shared = self.protocol == mqtt.MQTTv5
        return [(SHARED_READINGS_FILTER if shared else READINGS_FILTER, 1), (STATUS_FILTER, 1)]

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        result, self._sub_mid = client.subscribe(self._subscriptions())
        if result != mqtt.MQTT_ERR_SUCCESS:
            log.error("could not send SUBSCRIBE: %s", mqtt.error_string(result))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        """Only a SUBACK means the broker routes readings to us: until then we are not ready."""
        if mid != self._sub_mid:
            return
        refused = [rc for rc in reason_codes if rc.is_failure]
        if refused:
            log.error("broker refused the subscriptions %s: %s", self._subscriptions(), refused)
            return
        log.info(
            "connected to %s, subscribed to %s", self.opt.broker_url, [s for s, _ in self._subscriptions()]
        )
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        """On paho's network thread: decode and check a readings batch right away (``decode_batch``).

        The storing thread spends much of its time waiting for PostgreSQL with the GIL released; the
        validation done here overlaps with that wait instead of adding to the storing thread's work.
        """
        payload = bytes(msg.payload)
        if len(payload) > MAX_PAYLOAD_BYTES:  # keep a prefix and a hash, not the whole (memory)
            kept, about = payload_summary(payload)
            del payload
            inbound = InboundMessage(msg.topic, kept, datetime.now(UTC), None, oversized=about)
            self._queue.put(_Received(msg.mid, msg.qos, inbound, 1))
            return
        if msg.topic.endswith("/readings"):
            try:
                fast = decode_batch(payload)
            except Exception:  # never let a payload break paho's loop; the store decides again
                log.exception("validating a message from %s failed unexpectedly", msg.topic)
                inbound = InboundMessage(msg.topic, payload, datetime.now(UTC))
                size = payload.count(b'"meter_id"') or 1
            else:
                size = len(fast) if fast is not None else payload.count(b'"meter_id"') or 1
                inbound = InboundMessage(msg.topic, payload, datetime.now(UTC), fast)
        else:
            size = 1
            inbound = InboundMessage(msg.topic, payload, datetime.now(UTC))
        self._queue.put(_Received(msg.mid, msg.qos, inbound, size))

    def _connect(self) -> None:
        url = urlparse(self.opt.broker_url)
        host, port = url.hostname or "127.0.0.1", url.port or (8883 if url.scheme == "mqtts" else 1883)
        props = Properties(PacketTypes.CONNECT)
        # keep the session (the shared group's queue, unacknowledged messages) across reconnects,
        # broker restarts (with persistence) and a stop of this worker
        props.SessionExpiryInterval = self.opt.session_expiry
        client = self._make_client(mqtt.MQTTv5)
        try:
            client.connect(host, port, keepalive=30, clean_start=False, properties=props)
            client.loop_start()
            if not self._connected.wait(5):
                raise ConnectionError("no CONNACK in 5 s")
        except (ConnectionError, OSError, mqtt.WebsocketConnectionError) as exc:
            client.loop_stop()
            log.info(
                "MQTT 5 connect failed (%s); falling back to MQTT 3.1.1 without shared subscriptions", exc
            )
            self.protocol = mqtt.MQTTv311
            client = self._make_client(mqtt.MQTTv311)
            client.connect(host, port, keepalive=30)
            client.loop_start()
            if not self._connected.wait(10):
                raise ConnectionError(
                    f"could not connect to the MQTT broker at {self.opt.broker_url}"
                ) from exc
        self._client = client

    # --- database side ----------------------------------------------------------------------------
    def _db(self, w: _Writer) -> MessageStore:
        if w.store is None or w.conn is None or w.conn.closed:
            w.conn = connect(self.db_url)
            w.store = MessageStore(w.conn, ReadingWriter(w.conn), worker=self.opt.client_id)
        return w.store

    @staticmethod
    def _drop_db(w: _Writer) -> None:
        if w.conn is not None:
            with contextlib.suppress(psycopg.Error):
                w.conn.close()
        w.conn = None
        w.store = None

    def _store_once(self, w: _Writer, seq: int, group: list[_Received]) -> None:
        """Store a group in one transaction, then acknowledge it (only now: the rows are committed)."""
        store = self._db(w)
        try:
            result = store.store([g.message for g in group])
            store.conn.commit()
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                store.conn.rollback()
            raise
        with self._stats_lock:
            self.stats.add(result)
        self._acknowledge(seq, group, result)

    def _acknowledge(self, seq: int, group: list[_Received], result: StoreResult) -> None:
        """PUBACK a committed group, in the order the groups were collected (MQTT wants acknowledgements
        in the order of the messages): a group committed early waits for the groups before it. Then
        tell each gateway which of its batches the commit settled."""
        assert self._client is not None
        with self._ack_lock:
            self._committed[seq] = (group, result)
            while self._ack_seq in self._committed:
                done, settled = self._committed.pop(self._ack_seq)
                for g in done:
                    if g.qos > 0:
                        self._client.ack(g.mid, g.qos)
                    self.stats.acked += 1
                self._publish_commit_acks(settled)
                self._ack_seq += 1

    def _publish_commit_acks(self, result: StoreResult) -> None:
        """One ``CommitAck`` per gateway (QoS 1). One lost on the way costs a re-send, never data:
        the gateway sends the batch again after its commit timeout and this ack is repeated."""
        client = self._client
        assert client is not None
        now = datetime.now(UTC)
        for (building, gateway), batch_ids in result.commits.items():
            dead = set(result.dead_lettered.get((building, gateway), ()))
            topic = commits_topic(building, gateway)
            for i in range(0, len(batch_ids), MAX_BATCH_IDS_PER_ACK):
                chunk = batch_ids[i : i + MAX_BATCH_IDS_PER_ACK]
                payload = encode_commit_ack(gateway, building, now, chunk, [b for b in chunk if b in dead])
                client.publish(topic, payload, qos=1)
                self.stats.commit_acks += 1

    def _store_with_retry(self, w: _Writer, seq: int, group: list[_Received]) -> None:
        """``_store_once`` until the database takes it, backing off while it is unavailable."""
        delay = 0.5
        while True:
            try:
                self._store_once(w, seq, group)
                return
            except psycopg.OperationalError as exc:
                if is_conflict(exc):
                    # another writer's transaction held what this one needed (e.g. both re-delivered
                    # the same readings): redo it at once, nothing was stored
                    with self._stats_lock:
                        self.stats.conflicts_retried += 1
                    log.debug("transaction rolled back by PostgreSQL (%s); storing the group again", exc)
                    continue
                with self._stats_lock:
                    self.stats.db_errors += 1
                self._drop_db(w)
                if self._stop.is_set():
                    raise
                log.warning(
                    "database unavailable (%s); %d messages held unacknowledged, retry in %.1f s",
                    str(exc).strip().splitlines()[0] if str(exc) else exc,
                    len(group),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self.opt.db_retry_max)

    def _maybe_rollup(self, w: _Writer) -> None:
        every = self.opt.rollup_every
        if every is None or time.monotonic() - self._last_rollup < every:
            return
        if not self._rollup_lock.acquire(blocking=False):
            return  # another writer is rolling up
        try:
            self._last_rollup = time.monotonic()
            conn = self._db(w).conn
            stats = process_dirty(conn)
            conn.commit()
            with self._stats_lock:
                self.stats.hours_written += stats.hours_written
        except psycopg.OperationalError as exc:
            if is_conflict(exc):  # collided with a writer: the next round does it
                with contextlib.suppress(psycopg.Error):
                    self._db(w).conn.rollback()
                with self._stats_lock:
                    self.stats.conflicts_retried += 1
                self._last_rollup -= every  # soon, not a whole period later
            else:
                log.warning("hourly rollup postponed: database unavailable (%s)", exc)
                self._drop_db(w)
        finally:
            self._rollup_lock.release()

    # --- main loop --------------------------------------------------------------------------------
    def run(self, *, until: Callable[[], bool] | None = None) -> IngestStats:
        """Consume until ``stop()`` (or ``until()`` is true); returns the statistics."""
        return_big_buffers_to_the_system()
        self._connect()
        threads = [
            threading.Thread(target=self._work_guarded, args=(w, until), name=f"ingest-{w.name}", daemon=True)
            for w in self._writers[1:]
        ]
        try:
            for t in threads:
                t.start()
            self._work(self._writers[0], until)
        finally:
            self._done.set()
            for t in threads:
                t.join()
            self.close()
        if self._failure is not None:
            raise self._failure
        return self.stats

    def _work_guarded(self, w: _Writer, until: Callable[[], bool] | None) -> None:
        try:
            self._work(w, until)
        except BaseException as exc:  # the main thread re-raises it; the others stop
            self._failure = exc
            self._done.set()

    def _work(self, w: _Writer, until: Callable[[], bool] | None) -> None:
        """One writer: collect a group (one writer at a time), store it, repeat."""
        while not self._stop.is_set() and not self._done.is_set() and not (until and until()):
            with self._group_lock:
                group = self._next_group()
                seq = self._next_seq
                if group:
                    self._next_seq += 1
            if group:
                self._store_with_retry(w, seq, group)
            self._maybe_rollup(w)

    def _next_group(self) -> list[_Received]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        group = [first]
        size = first.size_hint
        deadline = time.monotonic() + self.opt.max_delay
        while size < self.opt.max_batch_readings:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                item = self._queue.get(timeout=min(remaining, self.opt.idle_gap))
            except queue.Empty:
                break
            group.append(item)
            size += item.size_hint
        return group

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        """Stop: store and acknowledge what already arrived, then disconnect keeping the session.

        The session — and with it this worker's place in the shared group and whatever the broker
        queues for it meanwhile — survives the stop, so a restart (a deploy, ``docker compose
        restart``) loses nothing even when this is the only worker. With ``leave_group`` the worker
        unsubscribes first and ends its session (expiry 0): the broker stops routing to it for good.
        Messages still unacknowledged at the disconnect (the database is down, or the drain timed out)
        come back from the broker, or from the gateways' outboxes.
        """
        self._stop.set()  # also when the run ended by ``until``: no retry loop may outlive it
        client = self._client
        w = self._writers[0]
        if client is None:
            for x in self._writers:
                self._drop_db(x)
            return
        leave = self.opt.leave_group
        if self._connected.is_set():
            if leave:
                client.unsubscribe([f for f, _ in self._subscriptions()])
            try:
                self._drain(w)
            except psycopg.OperationalError as exc:
                log.warning("stopping with the database unavailable (%s); the broker keeps the rest", exc)
                leave = False  # the unacknowledged messages must come back to this session
        if leave and self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
            client.disconnect(properties=props)
        else:
            client.disconnect()
        client.loop_stop()
        self._client = None
        for x in self._writers:
            self._drop_db(x)

    def _drain(self, w: _Writer) -> None:
        """Store and acknowledge what is queued and what still arrives, until a quiet moment."""
        deadline = time.monotonic() + self.opt.drain_timeout
        while time.monotonic() < deadline:
            try:
                first = self._queue.get(timeout=0.3)
            except queue.Empty:
                return
            group = [first]
            while len(group) < 1000:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            seq, self._next_seq = self._next_seq, self._next_seq + 1
            self._store_with_retry(w, seq, group)  # a conflict is redone; an outage raises (stopping)
