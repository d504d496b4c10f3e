"""The legal department (судебно-претензионная работа): from the debtors list to money collected under a
court order. Pure rules — the state fee (:mod:`.state_fee`), the split among co-owners (:mod:`.shares`),
limitation (:mod:`.time_bar`), the case's life (:mod:`.lifecycle`), what a court act awards each defendant
(:mod:`.awards`) and what his money under it may pay (:mod:`.writ_limits`) — apart from the modules that
read and write the database (selection, cases, documents, the penalties sheet, money under a writ). Claims
read what the close and the money produced and never change charges. See docs/claims.md.
"""

from meterhub.claims.lifecycle import CaseState, TransitionError
from meterhub.claims.shares import Share, split_by_shares
from meterhub.claims.state_fee import StateFee, StateFeeTables, state_fee
from meterhub.claims.time_bar import Suspension, limitation_ends, time_barred

__all__ = [
    "CaseState",
    "Share",
    "StateFee",
    "StateFeeTables",
    "Suspension",
    "TransitionError",
    "limitation_ends",
    "split_by_shares",
    "state_fee",
    "time_barred",
]
