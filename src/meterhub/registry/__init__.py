"""meterhub.registry — the passport office (паспортная служба): the register of residents.

Persons with their names and identity documents (with history), legal representatives, owners with shares
and title documents, and registration events per premise (append-only). The pure part —
:mod:`~meterhub.registry.events` (replay of events into residence spans) and
:mod:`~meterhub.registry.resident_days` (counts per account and day for the close) — has no I/O; the
``*_store`` modules read and write the database; ``forms`` renders the printed forms, ``lists`` the XLSX
lists, ``legacy_import`` reads a legacy card index. See ``docs/passport-office.md``.
"""

from meterhub.registry.events import (
    DeregistrationReason,
    EventKind,
    RegistrationEvent,
    ReplayError,
    ResidenceKind,
    ResidenceSpan,
    replay_events,
)
from meterhub.registry.resident_days import AccountWindow, DayCount, ResidentDays, counts_by_day

__all__ = [
    "AccountWindow",
    "DayCount",
    "DeregistrationReason",
    "EventKind",
    "RegistrationEvent",
    "ReplayError",
    "ResidenceKind",
    "ResidenceSpan",
    "ResidentDays",
    "counts_by_day",
    "replay_events",
]
