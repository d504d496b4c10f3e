"""What residents see of billing in their cabinet (личный кабинет), served by :mod:`meterhub.api`.

Pure presentation logic: a meter's consumption chart in local time, in volume or ₽
(:mod:`.consumption_series`), the building charts (:mod:`.building_charts`), the tariff advice over the
last 12 months (:mod:`.tariff_advice`) and the checks of a submitted meter reading
(:mod:`.reading_submission`). Their database side: :mod:`.loaders` (an account's meters, tariffs, charts,
advice), :mod:`.building_chart_inputs`, :mod:`.submission_store` (reading submissions) and
:mod:`.plan_requests` (requests to change the tariff plan, approved by staff). Nothing here computes a
bill: charges come from :mod:`meterhub.billing.rules` through the close. See docs/api-telemetry.md and
docs/cabinet.md.
"""
