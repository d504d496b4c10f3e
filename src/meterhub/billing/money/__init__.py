"""The money side of billing (деньги): what was charged becomes what is owed, paid and penalised.

Payment registries from banks and agents are parsed (:mod:`.payment_registry`, no database) and posted
(:mod:`.posting`: payments, the suspense list, allocation over debts by the pure
:mod:`meterhub.billing.rules.payment_allocation`); :mod:`.ledger` reads balances (сальдо) and payment
history; :mod:`.opening_balances` the balances brought over from a legacy system; :mod:`.penalty_debts`
the debts as the penalty rules see them; :mod:`.penalty_run` the close's money step (recalculations,
penalties, advances, benefits from :mod:`.benefits`); :mod:`.debtors` the debtors list and
:mod:`.agent_export` the export of charges for payment agents; :mod:`.payment_qr` the ГОСТ Р 56042-2014
payment QR of a receipt (pure); :mod:`.suppliers` whose money it is
(suppliers, payees, commissions, transfers). All of it reads or writes the database; the arithmetic is
in :mod:`meterhub.billing.rules`. See docs/billing-money.md and docs/suppliers.md.
"""
