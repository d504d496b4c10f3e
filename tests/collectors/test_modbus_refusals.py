"""Devices that say no: a refused serial register, a refused value register, a device that refuses
everything, and a TCP server that closes the connection."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest
from modbus_support import device, modbus_profile, run, tcp_simulator

from meterhub.collectors.modbus.poller import ModbusCollector
from meterhub.core import make_meter_id
from meterhub.simulators.modbus_meters import SimulatedModbusMeter


def _strict_meter(profile, unit_id: int) -> SimulatedModbusMeter:
    return SimulatedModbusMeter(profile, unit_id=unit_id, serial=77, seed=unit_id, reject_unmapped=True)


def test_refused_serial_register_keeps_the_values_under_the_configured_name(
    caplog: pytest.LogCaptureFixture,
) -> None:
    no_serial = modbus_profile("eastron-sdm120").model_copy(update={"serial": None})
    sim_meter = _strict_meter(no_serial, 1)  # like a libmodbus server with nothing at 0xFC00

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (sim, url):
            collector = ModbusCollector([device("flat-12-electricity", url, 1, "eastron-sdm120")])
            with caplog.at_level(logging.WARNING, logger="meterhub.collectors.modbus.poller"):
                first = (await collector.poll_once())[0]
                second = (await collector.poll_once())[0]
            collector.close()
            for result in (first, second):
                assert result.ok, result.error
                named = make_meter_id("Eastron", "flat-12-electricity")
                assert {r.meter_id for r in result.readings} == {named} == {"EASTRON-flat12electricity"}
                truth = sim_meter.values(sim.clock.now())
                assert {r.register: r.value for r in result.readings} == pytest.approx(
                    {name: value for (_, name), value in truth.items()}, abs=1e-3
                )
                assert "serial register refused" in result.notes[0]
            status = collector.statuses()[0]
            assert status.online and status.unreadable == ("serial",) and status.serial is None
            # the refused serial register is not asked again
            assert all(t.request.address != 0xFC00 for t in second.transactions)
            assert second.requests == len(second.transactions) < first.requests
            warnings = [r for r in caplog.records if "serial register refused" in r.getMessage()]
            assert len(warnings) == 1  # said once, not every poll

    run(scenario())


def test_a_refused_value_register_leaves_the_others() -> None:
    profile = modbus_profile("eastron-sdm120")
    without_export = profile.model_copy(
        update={"registers": [r for r in profile.registers if r.name != "energy_export_kwh"]}
    )
    sim_meter = _strict_meter(without_export, 3)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (_, url):
            collector = ModbusCollector([device("m", url, 3, "eastron-sdm120")])
            (result,) = await collector.poll_once()
            collector.close()
            assert result.ok, result.error
            registers = {r.register for r in result.readings}
            assert len(registers) == 6 and "energy_export_kwh" not in registers
            assert {r.meter_id for r in result.readings} == {"EASTRON-77"}
            assert collector.statuses()[0].unreadable == ("energy_export_kwh",)

    run(scenario())


def test_a_device_that_refuses_everything_is_down_and_retried_afresh() -> None:
    sim_meter = SimulatedModbusMeter(modbus_profile("eastron-sdm120"), unit_id=4, serial=44, seed=4)
    sim_meter.faults.exception_code = 2  # illegal data address to every read (e.g. the wrong profile)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (_, url):
            collector = ModbusCollector([device("m", url, 4, "eastron-sdm120")])
            (nothing,) = await collector.poll_once()
            status = collector.statuses()[0]
            assert not nothing.ok and not nothing.readings
            assert status.online is False and status.last_error_kind == "no_values"
            assert "voltage_v" in (nothing.error or "") and "energy_import_kwh" in (nothing.error or "")
            (again,) = await collector.poll_once()
            assert not again.ok and again.requests > 0  # asked again, not written off for good
            sim_meter.faults.exception_code = None  # the device was set up right
            (back,) = await collector.poll_once()
            collector.close()
            assert back.ok and len(back.readings) == 7 and collector.statuses()[0].online

    run(scenario())


def test_a_tcp_server_that_closes_the_connection_is_a_connection_error_at_once() -> None:
    async def close_on_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readexactly(12)  # one read request arrives …
        writer.close()  # … and the server hangs up instead of answering

    async def scenario() -> None:
        server = await asyncio.start_server(close_on_request, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        timeout = 10.0
        collector = ModbusCollector(
            [
                device(
                    "m",
                    f"tcp://127.0.0.1:{port}",
                    1,
                    "eastron-sdm120",
                    serial="1",
                    timeout=timeout,
                    retries=0,
                )
            ]
        )
        try:
            t0 = time.monotonic()
            (result,) = await collector.poll_once()
            elapsed = time.monotonic() - t0
        finally:
            collector.close()
            server.close()
        assert not result.ok and collector.statuses()[0].last_error_kind == "connection", result.error
        assert "closed the connection" in (result.error or "")
        assert elapsed < timeout  # reported when it happened, not when the timeout ran out

    run(scenario())
