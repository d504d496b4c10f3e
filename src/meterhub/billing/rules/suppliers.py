"""Pure rules of the suppliers' money (no I/O): who a service's money belongs to, commissions, balances.

* **Supplier in force.** Each service of a building has a supplier (поставщик: the УК itself, a РСО with a
  direct contract, a regional capital-repair operator, an agent) from a date until the next row of the same
  building and service (billing-rules.md decision 11). Money of a debt period belongs to the supplier in
  force on the first day of that period, so a change of supplier never moves old debts.
* **Commission** (комиссия банка / платёжного агента) of one payment by the agent contract in force on the
  payment date: ``max(minimum, round_half_up(amount × percent / 100))``, never more than the payment.
* **Who bears it**: ``supplier`` — withheld from the money due to the payment's payees, split pro rata to
  their parts (largest remainder, :func:`~meterhub.billing.rules.payment_allocation.split_kopecks`; ties to
  the
  first payee in receipt order); ``management`` — the УК pays it, nothing is withheld from the suppliers;
  ``payer`` — the bank charged it on top of the payment, nothing is withheld.
* **Balance of a supplier for a period** [kopecks]::

      owed_closing = owed_opening + paid − withheld − transferred

  where ``paid`` is what consumers paid for the supplier's services (allocations booked in the period),
  ``withheld`` the commissions the banks kept from that money, ``transferred`` what was sent to the
  supplier. ``charged`` (what consumers were billed) is reported beside it; ``charged − paid`` is the
  consumers' debt to the supplier, not the collector's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from meterhub.billing.rules.payment_allocation import split_kopecks

__all__ = [
    "AgentContract",
    "CommissionBearer",
    "ServiceSupplier",
    "SupplierBalance",
    "commission_kopecks",
    "contract_in_force",
    "split_commission",
    "supplier_in_force",
]


class CommissionBearer(StrEnum):
    SUPPLIER = "supplier"  # withheld from the suppliers' money
    MANAGEMENT = "management"  # the УК pays it from its own money
    PAYER = "payer"  # charged to the payer on top of the payment


@dataclass(frozen=True, slots=True)
class ServiceSupplier:
    """The supplier of ``service`` in ``building_id`` from ``valid_from`` (until the next row)."""

    building_id: str
    service: str
    valid_from: date
    supplier_id: str


@dataclass(frozen=True, slots=True)
class AgentContract:
    """A bank's or payment agent's contract from ``valid_from``: ``percent`` [%] of each payment, at least
    ``minimum_kopecks`` per payment, borne by ``borne_by``."""

    source: str
    valid_from: date
    percent: Decimal
    minimum_kopecks: int = 0
    borne_by: CommissionBearer = CommissionBearer.SUPPLIER
    contract_no: str = ""

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.percent < Decimal(100):
            raise ValueError(
                f"contract of {self.source} from {self.valid_from}: percent {self.percent} ∉ [0, 100)"
            )
        if self.minimum_kopecks < 0:
            raise ValueError(f"contract of {self.source} from {self.valid_from}: negative minimum")


def supplier_in_force(
    rows: Iterable[ServiceSupplier], building_id: str, service: str, day: date
) -> str | None:
    """The supplier of ``service`` in ``building_id`` on ``day`` (the latest row with valid_from ≤ day)."""
    best: ServiceSupplier | None = None
    for row in rows:
        matches = row.building_id == building_id and row.service == service and row.valid_from <= day
        if matches and (best is None or row.valid_from > best.valid_from):
            best = row
    return best.supplier_id if best else None


def contract_in_force(contracts: Iterable[AgentContract], source: str, day: date) -> AgentContract | None:
    """The agent contract of ``source`` on ``day`` (the latest with valid_from ≤ day), or ``None``."""
    best: AgentContract | None = None
    for contract in contracts:
        matches = contract.source == source and contract.valid_from <= day
        if matches and (best is None or contract.valid_from > best.valid_from):
            best = contract
    return best


def commission_kopecks(amount_kopecks: int, percent: Decimal, minimum_kopecks: int = 0) -> int:
    """Commission of a payment of ``amount_kopecks`` [kopecks]: ``percent`` of it rounded half-up to the
    kopeck, at least ``minimum_kopecks``, at most the payment itself."""
    if amount_kopecks <= 0:
        raise ValueError(f"payment amount must be positive, got {amount_kopecks} kopecks")
    by_percent = (Decimal(amount_kopecks) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(amount_kopecks, max(minimum_kopecks, int(by_percent)))


def split_commission(commission: int, parts: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """Split ``commission`` [kopecks] among the payees of a payment pro rata to their ``parts``
    (``(payee, kopecks)`` in receipt order; largest remainder, ties to the earlier payee). Payees with a
    zero part get nothing; ``Σ result == commission``."""
    kept = [(payee, amount) for payee, amount in parts if amount > 0]
    if commission == 0 or not kept:
        if commission:
            raise ValueError(f"cannot split a commission of {commission} kopecks over no payee")
        return []
    shares = split_kopecks(commission, [amount for _, amount in kept])
    return [(payee, share) for (payee, _), share in zip(kept, shares, strict=True)]


@dataclass(frozen=True, slots=True)
class SupplierBalance:
    """The balance of money owed to one supplier for one period [kopecks] (расчёты с поставщиком)."""

    supplier_id: str
    period: str
    charged: int
    """billed to consumers for the supplier's services: charges, recalculations and penalties of the period"""
    paid: int
    """paid by consumers for the supplier's services (allocations booked in the period)"""
    withheld: int
    """commissions the banks and agents kept from that money (borne by the supplier)"""
    transferred: int
    """sent to the supplier (bank statements of transfers)"""
    owed_opening: int = 0

    @property
    def due(self) -> int:
        """What the collector must transfer for the period: ``paid − withheld``."""
        return self.paid - self.withheld

    @property
    def owed(self) -> int:
        """Owed to the supplier at the end of the period (задолженность по перечислениям)."""
        return self.owed_opening + self.paid - self.withheld - self.transferred
