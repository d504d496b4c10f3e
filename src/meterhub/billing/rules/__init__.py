"""The billing rules (правила расчёта): pure functions over plain dataclasses — no database, no I/O.

Everything a billing line is computed from lives here and only here: billing periods in the building's
local time (:mod:`.periods`), exact money and volume arithmetic with named rounding points
(:mod:`.rounding`), time-of-day zones and schedules (:mod:`.zones`, :mod:`.schedule_text`), tariffs and
tariff plans (:mod:`.tariffs`, :mod:`.tariff_plans`), a meter's period data and the individual volume
procedure (:mod:`.meter_data`, :mod:`.volumes`), common-property consumption ОДН/КРСОИ
(:mod:`.common_property`), charge lines of an account and of a whole building (:mod:`.charges`,
:mod:`.building`), recalculations and the true-up of averages (:mod:`.recalculation`, :mod:`.true_up`),
penalties (пени) and payment allocation (:mod:`.penalties`, :mod:`.debt_penalty`,
:mod:`.payment_allocation`), heating (:mod:`.heating`), benefits (:mod:`.benefits`) and the suppliers'
money (:mod:`.suppliers`), and the digest of an engine input (:mod:`.input_digest`). The formulas are in
billing-rules.md; docs/billing-engine.md maps them to these modules. ``tests/billing/test_architecture.py``
enforces the promise: every module here imports with psycopg unavailable and imports nothing from the
packages that do I/O.
"""
