"""The input digest changes exactly when the engine input changes (hourly series by their bytes)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal as D

import numpy as np

from meterhub.billing import (
    AccountInput,
    BuildingInput,
    HourlySeries,
    MeterPeriod,
    MeterStatus,
    Service,
    ServiceConsumer,
    Tariff,
    Zone,
)
from meterhub.billing.rules.input_digest import input_digest


def _building(volumes: list[int], residents: int = 2) -> BuildingInput:
    starts = np.arange(3, dtype=np.int64) * 3_600_000_000 + 1_767_214_800_000_000
    meter = MeterPeriod(MeterStatus.VALID, hourly=HourlySeries.from_micro(starts, np.array(volumes)))
    account = AccountInput(
        "LS-1", D("50.0"), residents=residents, services=(ServiceConsumer(Service.ELECTRICITY, meter),)
    )
    tariff = Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.43")})
    return BuildingInput("B1", "Europe/Moscow", D(100), D(10), (account,), (tariff,))


def test_digest_is_stable_and_sensitive() -> None:
    base = input_digest(_building([1, 2, 3]))
    assert base == input_digest(_building([1, 2, 3]))
    assert base != input_digest(_building([1, 2, 4]))  # one hour differs
    assert base != input_digest(_building([1, 2, 3], residents=3))
    changed_tariff = dataclasses.replace(
        _building([1, 2, 3]),
        tariffs=(Tariff(Service.ELECTRICITY, date(2025, 1, 1), {Zone.SINGLE: D("6.44")}),),
    )
    assert base != input_digest(changed_tariff)
