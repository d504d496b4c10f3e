"""The period close (закрытие периода) — the database side of the rules.

:mod:`.repository` reads the billing domain tables (buildings, accounts, meter links, tariffs,
normatives); :mod:`.config_in_force` the validity-dated configuration; :mod:`.loader` fills one
building's engine input from them and from the time series (:mod:`.meter_reads`); :mod:`.period` runs one
building's close — load → rules → write — in one transaction, storing lines and reports through
:mod:`.results_store` (the COPY text of its large writes by :mod:`.copy_rows`) and noting which closed
periods may have changed through :mod:`.input_changes`; :mod:`.runner` closes many buildings in worker
processes. The open period's recalculations for absence and interruptions (:mod:`.service_events`,
:mod:`.service_recalculations`) and heating (:mod:`.heating`) are steps of the same close. The money step
that follows the charges (payments, penalties, benefits) is in :mod:`meterhub.billing.money`. See
docs/billing-close.md.
"""
