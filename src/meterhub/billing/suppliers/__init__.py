"""Money to its owners (деньги — их владельцам): suppliers and payees, commissions, transfers.

* :mod:`~meterhub.billing.suppliers.rules` — pure: the supplier of a service in force on a day, a bank or
  agent commission by its contract (percent, minimum, who bears it), a payment split among its payees,
  the balance identity of a supplier's period. No I/O.
* :mod:`~meterhub.billing.suppliers.store` — the database side: the configuration in force, commissions
  of posted payments, the balance per supplier and period from the ledger's tables.
* :mod:`~meterhub.billing.suppliers.transfers` — registers of what is due per supplier and period, and
  imported bank statements of transfers (перечисления).

See docs/suppliers.md.
"""

from meterhub.billing.suppliers.rules import (
    AgentContract,
    CommissionBearer,
    ServiceSupplier,
    SupplierBalance,
    commission_kopecks,
    contract_in_force,
    split_commission,
    supplier_in_force,
)

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
