"""What ``meterhub ingest`` is told (``IngestOptions``), what it counts (``IngestStats``), and two rules of
its own: which database errors are conflicts to redo at once, and how it keeps huge messages from
growing its heap for good. The service itself is ``timeseries.mqtt_ingest``."""

from __future__ import annotations

import ctypes
import socket
from dataclasses import dataclass, field

import psycopg

from meterhub.timeseries.message_store import StoreResult


@dataclass
class IngestOptions:
    broker_url: str = "mqtt://127.0.0.1:1883"
    client_id: str = field(default_factory=lambda: f"meterhub-ingest-{socket.gethostname()}")
    username: str | None = None
    password: str | None = None
    shared: bool | None = None  # None: MQTT 5 shared subscription if the broker speaks MQTT 5
    max_batch_readings: int = 20_000
    max_delay: float = 0.5
    idle_gap: float = 0.02  # no message for this long ends a group early (see the module docstring)
    rollup_every: float | None = 30.0
    db_retry_max: float = 30.0
    writers: int = 2  # database connections storing groups in turn (see the module docstring)
    leave_group: bool = False  # at stop, end the session: leave the shared group for good
    # seconds the broker keeps this worker's session (its place in the group, its queue) while it is
    # away: long enough for a restart; a worker gone for longer drops out (gateways re-send its share)
    session_expiry: int = 300
    reconnect_max: float = 4.0  # longest pause between reconnect attempts [s]
    drain_timeout: float = 10.0  # at stop, how long to keep storing what still arrives [s]


@dataclass
class IngestStats:
    messages: int = 0
    acked: int = 0
    readings_inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    dead_messages: int = 0
    refused: int = 0  # messages of unknown gateways or from another building (dead letters)
    statuses: int = 0
    commit_acks: int = 0  # commit acknowledgements published to gateways
    db_errors: int = 0
    conflicts_retried: int = 0  # transactions PostgreSQL rolled back (deadlock, serialization) and redone
    hours_written: int = 0

    def add(self, r: StoreResult) -> None:
        self.messages += r.messages
        self.readings_inserted += r.readings.inserted
        self.duplicates += r.readings.duplicates
        self.rejected += r.readings.rejected
        self.dead_messages += r.dead_messages
        self.refused += r.refused
        self.statuses += r.statuses


_BIG_BUFFER = 4 * 1024 * 1024


def return_big_buffers_to_the_system() -> None:
    """Make glibc serve every allocation of 4 MiB and more (a huge MQTT packet being read) with its own
    mapping, given back when freed. By default glibc raises that threshold after the first big free,
    and the next huge messages then come from the heap, which does not shrink again: a storm of
    oversized messages would leave the ingest hundreds of MB larger for good. No-op off glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, _BIG_BUFFER)  # M_MMAP_THRESHOLD; fixing it also stops the dynamic raise
    except (OSError, AttributeError):
        pass


def is_conflict(exc: psycopg.OperationalError) -> bool:
    """PostgreSQL rolled the transaction back because of another one (class 40: deadlock,
    serialization failure) or a lock wait timed out: redo it; the database is fine."""
    state = getattr(exc, "sqlstate", None) or ""
    return isinstance(exc, psycopg.errors.TransactionRollback) or state.startswith("40") or state == "55P03"
