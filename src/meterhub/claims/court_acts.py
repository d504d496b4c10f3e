"""Where a court act recorded in a case goes besides the case: the hook through which the claims stage
fills the exchange stage's ``court_decisions`` (so ГИС ЖКХ debt-request answers see it) without importing
that stage. ``meterhub.cli.wiring.plug_court_decisions`` plugs the exchange's writer in; the commands and
the web app that record case steps call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import psycopg

__all__ = ["CourtActRecord", "court_act_sink_plugged", "publish_court_act", "set_court_act_sink"]


@dataclass(frozen=True, slots=True)
class CourtActRecord:
    """One defendant of a court order or decision on an account's debt, or (``repaid_on``) its end: paid or
    cancelled. ``amount_kopecks`` is what this defendant is ordered to pay: his own amount (``share``) or
    the whole amount he owes jointly with the others of his award (``solidary``)."""

    account_no: str
    case_number: str
    court: str
    decided_on: date
    in_force_on: date
    debt_from: str
    debt_to: str
    amount_kopecks: int
    last_name: str
    first_name: str
    middle_name: str | None
    repaid_on: date | None = None
    debtor_no: int = 1
    liability: str = "share"


Sink = Callable[[psycopg.Connection, CourtActRecord], None]
_sink: Sink | None = None


def set_court_act_sink(sink: Sink | None) -> None:
    global _sink
    _sink = sink


def court_act_sink_plugged() -> bool:
    return _sink is not None


def publish_court_act(conn: psycopg.Connection, record: CourtActRecord) -> None:
    """Hand ``record`` to the plugged sink in the caller's transaction. Without one the step cannot be
    recorded: a court act the debt answers would not see is an error, not a silent gap."""
    if _sink is None:
        raise RuntimeError(
            "no court decision sink is plugged: call meterhub.cli.wiring.plug_court_decisions() first"
        )
    _sink(conn, record)
