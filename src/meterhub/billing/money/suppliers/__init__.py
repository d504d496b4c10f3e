"""Money to its owners (деньги — их владельцам), database side: the suppliers' configuration in force,
commissions of posted payments and balances per supplier (:mod:`.store`), the payees of one receipt
(:mod:`.receipt_parts`), a payment made to one payee (:mod:`.payee_payments`), a supplier's own charges
(:mod:`.own_charges`) and transfer registers and bank statements (:mod:`.transfers`). The pure rules
(who a service's money belongs to, commissions, splits) are :mod:`meterhub.billing.rules.suppliers`.
See docs/suppliers.md.
"""
