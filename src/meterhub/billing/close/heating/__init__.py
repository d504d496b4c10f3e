"""Heating (отопление) in the period close: its configuration in force (:mod:`.store`), the heat meters'
volumes from the time series (:mod:`.meters`), the close step that turns them into lines through the pure
rules in :mod:`meterhub.billing.rules.heating` (:mod:`.step`), and the yearly correction of heating paid
evenly over the year (:mod:`.yearly`). See docs/billing-engine.md "Heating".
"""
