"""The life of a case (дело) — pure: its states, the steps allowed from each, their Russian names.

prepared → filed → order issued (судебный приказ) or, after the order is cancelled (отмена судебного приказа,
ГПК РФ ст. 129) or the application returned/refused (ст. 125), a lawsuit (исковое заявление) → decision →
writ of execution (исполнительный лист) → enforcement (sent to ФССП or the debtor's bank; a court order is
itself an executive document and goes there directly) → closed: paid, impossible to collect (ФЗ № 229
ст. 46 ч. 1 п. 4), returned, refused, withdrawn.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ACTIVE_STATES",
    "CLOSED_STATES",
    "COLLECTING_STATES",
    "DECISION_STATES",
    "CaseState",
    "TransitionError",
    "check_transition",
    "next_states",
]


class CaseState(StrEnum):
    PREPARED = "prepared"
    FILED = "filed"
    ORDER_ISSUED = "order_issued"
    ORDER_CANCELLED = "order_cancelled"
    LAWSUIT_FILED = "lawsuit_filed"
    DECISION = "decision"
    WRIT_ISSUED = "writ_issued"
    ENFORCEMENT = "enforcement"
    CLOSED_PAID = "closed_paid"
    CLOSED_UNCOLLECTABLE = "closed_uncollectable"
    CLOSED_RETURNED = "closed_returned"
    CLOSED_REFUSED = "closed_refused"
    CLOSED_WITHDRAWN = "closed_withdrawn"

    @property
    def title_ru(self) -> str:
        return _TITLES[self]


_TITLES = {
    CaseState.PREPARED: "подготовлено",
    CaseState.FILED: "заявление подано",
    CaseState.ORDER_ISSUED: "вынесен судебный приказ",
    CaseState.ORDER_CANCELLED: "судебный приказ отменён",
    CaseState.LAWSUIT_FILED: "подано исковое заявление",
    CaseState.DECISION: "вынесено решение суда",
    CaseState.WRIT_ISSUED: "получен исполнительный лист",
    CaseState.ENFORCEMENT: "на исполнении (ФССП / банк)",
    CaseState.CLOSED_PAID: "закрыто: оплачено",
    CaseState.CLOSED_UNCOLLECTABLE: "закрыто: невозможно взыскать",
    CaseState.CLOSED_RETURNED: "закрыто: возвращено",
    CaseState.CLOSED_REFUSED: "закрыто: в иске отказано",
    CaseState.CLOSED_WITHDRAWN: "закрыто: отозвано",
}

_NEXT: dict[CaseState, tuple[CaseState, ...]] = {
    CaseState.PREPARED: (CaseState.FILED, CaseState.CLOSED_WITHDRAWN),
    CaseState.FILED: (
        CaseState.ORDER_ISSUED,
        CaseState.LAWSUIT_FILED,  # the judge refused the order (ГПК ст. 125 ч. 3): the claim goes to a suit
        CaseState.CLOSED_RETURNED,
        CaseState.CLOSED_WITHDRAWN,
    ),
    CaseState.ORDER_ISSUED: (CaseState.ORDER_CANCELLED, CaseState.ENFORCEMENT, CaseState.CLOSED_PAID),
    CaseState.ORDER_CANCELLED: (CaseState.LAWSUIT_FILED, CaseState.CLOSED_WITHDRAWN),
    CaseState.LAWSUIT_FILED: (CaseState.DECISION, CaseState.CLOSED_REFUSED, CaseState.CLOSED_WITHDRAWN),
    CaseState.DECISION: (CaseState.WRIT_ISSUED, CaseState.CLOSED_PAID, CaseState.CLOSED_REFUSED),
    CaseState.WRIT_ISSUED: (CaseState.ENFORCEMENT, CaseState.CLOSED_PAID),
    CaseState.ENFORCEMENT: (
        CaseState.ENFORCEMENT,  # re-sent (another bailiff's office, the debtor's bank)
        CaseState.ORDER_CANCELLED,  # an order under enforcement cancelled (ГПК ст. 129); not a decision
        CaseState.CLOSED_PAID,
        CaseState.CLOSED_UNCOLLECTABLE,
        CaseState.CLOSED_RETURNED,
    ),
}

CLOSED_STATES = frozenset(s for s in CaseState if s.value.startswith("closed_"))
ACTIVE_STATES = frozenset(CaseState) - CLOSED_STATES
DECISION_STATES = frozenset({CaseState.ORDER_ISSUED, CaseState.DECISION})
"""Steps that make a court act on the debt (written to the exchange's ``court_decisions``)."""
COLLECTING_STATES = frozenset(
    {CaseState.ORDER_ISSUED, CaseState.DECISION, CaseState.WRIT_ISSUED, CaseState.ENFORCEMENT}
)
"""States in which money under the court act may arrive."""


class TransitionError(ValueError):
    pass


def next_states(state: CaseState) -> tuple[CaseState, ...]:
    return _NEXT.get(state, ())


def check_transition(current: CaseState, new: CaseState) -> None:
    if new not in next_states(current):
        allowed = ", ".join(f"{s.value} ({s.title_ru})" for s in next_states(current)) or "none (closed)"
        raise TransitionError(
            f"a case in state {current.value} ({current.title_ru}) cannot go to {new.value}; "
            f"allowed: {allowed}"
        )
