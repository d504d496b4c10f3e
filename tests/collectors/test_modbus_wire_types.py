"""Every data type × byte order × word order over real sockets and a real pty: hypothesis picks the
values, the simulator encodes them with its own encoder, the collector reads them and decodes."""

from __future__ import annotations

import asyncio
import struct
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modbus_support import device, run, simulator_peer

from meterhub.collectors.modbus.poller import ModbusCollector
from meterhub.collectors.modbus.profile import DataType, ModbusProfile, Order
from meterhub.simulators.modbus_meters import SimulatedModbusMeter

LAYOUTS = list(product(DataType, Order, Order))  # 10 types × 4 orders = 40 devices
RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**53), 2**53),
    DataType.UINT64: (0, 2**53),  # exact as a float Reading.value
    DataType.BCD16: (0, 9999),
    DataType.BCD32: (0, 99_999_999),
}


def profile_for(kind: DataType, byte: Order, word: Order) -> ModbusProfile:
    return ModbusProfile.model_validate(
        {
            "profile": {
                "id": f"t-{kind}-{byte}-{word}",
                "manufacturer": "T",
                "model": "T",
                "protocol": "modbus",
                "kind": "electricity",
                "source": "test",
            },
            "registers": [
                {
                    "name": "power_w",
                    "address": 10,
                    "type": kind.value,
                    "byte_order": byte.value,
                    "word_order": word.value,
                    "function": "input",
                }
            ],
        }
    )


def value_for(kind: DataType) -> st.SearchStrategy[float]:
    if kind is DataType.FLOAT32:
        return st.floats(width=32, allow_nan=False, allow_infinity=False)
    if kind is DataType.FLOAT64:
        return st.floats(allow_nan=False, allow_infinity=False)
    low, high = RANGES[kind]
    return st.integers(low, high).map(float)


PROFILES = [profile_for(*layout) for layout in LAYOUTS]


@pytest.mark.parametrize("transport", ["tcp", "rtu+tcp", "rtu-pty"])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.tuples(*(value_for(kind) for kind, _, _ in LAYOUTS)))
def test_every_type_and_order_round_trips_on_the_wire(transport: str, values: tuple[float, ...]) -> None:
    meters = [
        SimulatedModbusMeter(p, unit_id=i + 1, serial=i + 1, pinned={(0, "power_w"): v})
        for i, (p, v) in enumerate(zip(PROFILES, values, strict=True))
    ]

    async def scenario() -> None:
        async with simulator_peer(transport, meters) as (_, url):
            collector = ModbusCollector(
                [device(f"d{i}", url, i + 1, p.id, serial=str(i + 1)) for i, p in enumerate(PROFILES)],
                {p.id: p for p in PROFILES},
            )
            results = await asyncio.wait_for(collector.poll_once(), 20)
            collector.close()
            for (kind, byte, word), sent, result in zip(LAYOUTS, values, results, strict=True):
                assert result.ok, (kind, byte, word, result.error)
                (reading,) = result.readings
                if kind is DataType.FLOAT32:
                    assert struct.pack(">f", reading.value) == struct.pack(">f", sent), (kind, byte, word)
                else:
                    assert reading.value == sent, (kind, byte, word, reading.value, sent)

    run(scenario())
