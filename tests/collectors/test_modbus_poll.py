"""Polling over real TCP sockets with the simulator as peer: values, status, faults, timing."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from pathlib import Path

import pytest
from modbus_support import START, device, meter, modbus_profile, run, tcp_simulator

from meterhub.collectors.modbus.device import ChannelConfig
from meterhub.collectors.modbus.poller import DevicePoller, ModbusCollector
from meterhub.collectors.modbus.profile import DataType, ModbusProfile
from meterhub.collectors.profiles import builtin_profiles
from meterhub.core import MeterKind, make_meter_id
from meterhub.simulators.modbus_meters import SimClock, SimulatedModbusMeter

MODBUS_PROFILES = sorted(k for k, v in builtin_profiles().items() if isinstance(v, ModbusProfile))


def _tolerance(profile: ModbusProfile, name: str, channel: int) -> float:
    reg = next(r for r in profile.registers if r.name == name and r.channel == channel)
    if reg.type in (DataType.FLOAT32,):
        return 1e-3
    if reg.type is DataType.FLOAT64:
        return 1e-9
    return abs(reg.scale * reg.factor) * 1.000001  # integers count whole steps


@pytest.mark.parametrize("profile_id", MODBUS_PROFILES)
def test_every_shipped_profile_reads_what_the_simulator_holds(profile_id: str) -> None:
    profile = modbus_profile(profile_id)
    sim_meter = meter(profile_id, 7)
    channels = {n: ChannelConfig(serial=f"W{n:04d}") for n in profile.channels if n > 0}
    serial = None if profile.serial is not None else "4711"

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (sim, url):
            collector = ModbusCollector([device("m", url, 7, profile_id, serial=serial, channels=channels)])
            (result,) = await collector.poll_once()
            collector.close()
            assert result.ok, result.error
            expected = sim_meter.values(sim.clock.now())
            assert len(result.readings) == len(expected)
            for reading in result.readings:
                channel = next((n for n, c in channels.items() if reading.meter_id.endswith(c.serial)), 0)
                want = expected[(channel, reading.register)]
                tolerance = _tolerance(profile, reading.register, channel)
                assert reading.value == pytest.approx(want, rel=1e-6, abs=tolerance), reading
            main_serial = serial or str(sim_meter.serial)
            if 0 in profile.channels:
                assert result.readings[0].meter_id == make_meter_id(profile.profile.manufacturer, main_serial)

    run(scenario())


def test_exception_response_is_a_status_logged_once_down_and_once_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (_, url):
            collector = ModbusCollector([device("flat-12", url, 1, "eastron-sdm120")])
            sim_meter.faults.exception_code = 4
            for _ in range(3):
                (result,) = await collector.poll_once()
                assert not result.ok
            status = collector.statuses()[0]
            assert status.online is False
            assert status.consecutive_failures == 3
            assert status.last_error_kind == "exception"
            assert "exception 04 (server device failure)" in (status.last_error or "")
            assert status.last_success is None
            sim_meter.faults.exception_code = None
            (result,) = await collector.poll_once()
            assert result.ok
            assert status.online is True and status.consecutive_failures == 0
            assert status.last_success is not None and status.total_failures == 3
            collector.close()

    with caplog.at_level(logging.INFO, logger="meterhub.collectors.modbus.poller"):
        run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert sum("flat-12 is down" in m for m in messages) == 1
    assert sum("flat-12 is back" in m for m in messages) == 1


def test_timeouts_retry_with_backoff_then_one_probe_while_offline() -> None:
    sim_meter = meter("eastron-sdm120", 1)
    sim_meter.faults.no_answer = True

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (sim, url):
            collector = ModbusCollector(
                [device("m", url, 1, "eastron-sdm120", timeout=0.15, retries=2, backoff=0.05)]
            )
            t0 = time.monotonic()
            (first,) = await collector.poll_once()
            first_time = time.monotonic() - t0
            assert not first.ok and first.error and first.error.startswith("timeout")
            assert first.requests == 3 and sim.requests == 3
            assert 3 * 0.15 + 0.05 + 0.1 <= first_time < 1.2  # three timeouts and two backoffs
            t0 = time.monotonic()
            (second,) = await collector.poll_once()
            assert second.requests == 1  # offline: a single probe
            assert time.monotonic() - t0 < 0.4
            collector.close()

    run(scenario())


def test_late_answer_within_timeout_is_fine_beyond_it_is_a_timeout() -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (_, url):
            collector = ModbusCollector([device("m", url, 1, "eastron-sdm120", timeout=0.3, retries=0)])
            sim_meter.faults.late_answer = 0.1
            (result,) = await collector.poll_once()
            assert result.ok
            sim_meter.faults.late_answer = 0.5
            (result,) = await collector.poll_once()
            assert not result.ok and result.error and result.error.startswith("timeout")
            sim_meter.faults.late_answer = 0.0
            await asyncio.sleep(0.5)  # the late answer arrives and is discarded (wrong transaction id)
            (result,) = await collector.poll_once()
            assert result.ok
            collector.close()

    run(scenario())


def test_crc_error_rtu_over_tcp_and_short_frame_on_tcp() -> None:
    rtu_meter = meter("eastron-sdm120", 3)
    tcp_meter = meter("eastron-sdm120", 4)
    rtu_meter.faults.crc_error = tcp_meter.faults.crc_error = True

    async def scenario() -> None:
        async with (
            tcp_simulator([rtu_meter], rtu_framing=True) as (_, rtu_url),
            tcp_simulator([tcp_meter]) as (_, tcp_url),
        ):
            collector = ModbusCollector(
                [
                    device("rtu", rtu_url, 3, "eastron-sdm120", retries=1, timeout=0.2),
                    device("tcp", tcp_url, 4, "eastron-sdm120", retries=0, timeout=0.2),
                ]
            )
            t0 = time.monotonic()
            rtu, tcp = await collector.poll_once()
            assert collector.statuses()[0].last_error_kind == "crc"
            assert collector.statuses()[1].last_error_kind == "short_frame"
            assert not rtu.ok and not tcp.ok
            assert time.monotonic() - t0 < 0.5  # a bad CRC fails at once, not after the timeout
            rtu_meter.faults.crc_error = tcp_meter.faults.crc_error = False
            rtu, tcp = await collector.poll_once()
            assert rtu.ok and tcp.ok
            assert rtu.readings[0].meter_id == make_meter_id("Eastron", str(rtu_meter.serial))
            collector.close()

    run(scenario())


def test_connection_refused_is_a_status_not_a_crash() -> None:
    async def scenario() -> None:
        collector = ModbusCollector([device("nobody", "tcp://127.0.0.1:1", 1, "eastron-sdm120", timeout=0.2)])
        (result,) = await collector.poll_once()
        assert not result.ok
        assert collector.statuses()[0].last_error_kind == "connection"
        collector.close()

    run(scenario())


def test_dead_device_does_not_delay_devices_elsewhere_nor_beyond_its_timeout_on_its_line() -> None:
    healthy = meter("eastron-sdm120", 1)
    dead = meter("eastron-sdm120", 2)
    neighbour = meter("eastron-sdm120", 3)
    dead.faults.no_answer = True

    async def timed(poller: DevicePoller) -> tuple[bool, float]:
        t0 = time.monotonic()
        result = await poller.poll()
        return result.ok, time.monotonic() - t0

    async def scenario() -> None:
        async with tcp_simulator([healthy]) as (_, url_a), tcp_simulator([dead, neighbour]) as (_, url_b):
            collector = ModbusCollector(
                [
                    device("healthy", url_a, 1, "eastron-sdm120"),
                    device("dead", url_b, 2, "eastron-sdm120", timeout=0.4, retries=2, backoff=0.05),
                    device("neighbour", url_b, 3, "eastron-sdm120"),
                ]
            )
            first = await asyncio.gather(*(timed(p) for p in collector.pollers))
            (ok_a, t_a), (ok_dead, t_dead), (ok_n, t_n) = first
            assert ok_a and not ok_dead and ok_n
            assert t_a < 0.3  # another endpoint: not delayed at all
            assert t_dead >= 3 * 0.4
            # on the shared endpoint the neighbour waits at most for the dead device's attempts
            assert t_n < 3 * 0.4 + 0.4
            second = await asyncio.gather(*(timed(p) for p in collector.pollers))
            (_, t_a2), (_, _t_dead2), (ok_n2, t_n2) = second
            assert ok_n2 and t_a2 < 0.3
            assert t_n2 < 0.4 + 0.25  # offline: one probe, i.e. its own timeout
            collector.close()

    run(scenario())


def test_rejected_addresses_are_learnt_and_the_device_is_replanned() -> None:
    strict = meter("eastron-sdm120", 1, reject_unmapped=True)

    async def scenario() -> None:
        async with tcp_simulator([strict]) as (sim, url):
            collector = ModbusCollector([device("strict", url, 1, "eastron-sdm120")])
            (first,) = await collector.poll_once()
            assert first.ok and len(first.readings) == 7
            assert collector.statuses()[0].unreadable == ()
            first_requests = first.requests
            (second,) = await collector.poll_once()
            assert second.ok and len(second.readings) == 7
            assert second.requests < first_requests  # the plan was remembered
            assert all(a.count <= 32 for a in sim.answered[-second.requests :])
            collector.close()

    run(scenario())


def test_one_register_per_request_option() -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (sim, url):
            collector = ModbusCollector(
                [device("m", url, 1, "eastron-sdm120", serial="1", one_register_per_request=True)]
            )
            (result,) = await collector.poll_once()
            assert result.ok and result.requests == 7
            assert all(a.count == 2 for a in sim.answered)
            collector.close()

    run(scenario())


def test_meter_replacement_shows_as_a_new_meter_id(caplog: pytest.LogCaptureFixture) -> None:
    sim_meter = meter("eastron-sdm120", 1, serial=111)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (_sim, url):
            collector = ModbusCollector([device("m", url, 1, "eastron-sdm120")])
            (before,) = await collector.poll_once()
            sim_meter.replace_meter(222, start_value=0.5)
            (after,) = await collector.poll_once()
            assert {r.meter_id for r in before.readings} == {"EASTRON-111"}
            assert {r.meter_id for r in after.readings} == {"EASTRON-222"}
            energy = next(r for r in after.readings if r.register == "energy_import_kwh")
            assert energy.value == pytest.approx(0.5, abs=1e-3)
            collector.close()

    with caplog.at_level(logging.WARNING, logger="meterhub.collectors.modbus.poller"):
        run(scenario())
    assert any("meter replaced" in r.getMessage() for r in caplog.records)


def test_pulse_counter_channels_factor_offset_and_rollover() -> None:
    clock = SimClock(START + timedelta(hours=1), speed=0.0)
    sim_meter = meter("advantech-adam6051", 5, channel_kinds={2: MeterKind.HOT_WATER})
    channels = {
        1: ChannelConfig(serial="CW1"),
        2: ChannelConfig(serial="HW2", factor=1.0),  # a 1 L/pulse meter on input 2
        3: ChannelConfig(serial="CW3", offset=100.0),  # reading at install
    }

    async def scenario() -> None:
        async with tcp_simulator([sim_meter], clock=clock) as (_, url):
            collector = ModbusCollector([device("adam", url, 5, "advantech-adam6051", channels=channels)])
            (result,) = await collector.poll_once()
            assert result.ok
            got = {r.meter_id: r.value for r in result.readings}
            assert set(got) == {"ADVANTECH-CW1", "ADVANTECH-HW2", "ADVANTECH-CW3"}
            truth = sim_meter.values(clock.now())
            assert got["ADVANTECH-CW1"] == pytest.approx(truth[(1, "water_m3")], abs=0.0101)
            assert got["ADVANTECH-HW2"] == pytest.approx(truth[(2, "water_m3")] / 10, abs=0.00101)
            assert got["ADVANTECH-CW3"] == pytest.approx(truth[(3, "water_m3")] + 100, abs=0.0101)
            # the uint32 pulse register rolls over: the collector reports the raw, smaller value
            sim_meter.force_rollover(clock.now(), margin=0.05)
            (near,) = await collector.poll_once()
            clock.advance(timedelta(hours=14))  # through the morning draws
            (wrapped,) = await collector.poll_once()
            before = {r.meter_id: r.value for r in near.readings}["ADVANTECH-CW1"]
            after = {r.meter_id: r.value for r in wrapped.readings}["ADVANTECH-CW1"]
            assert before > 4.29e7 - 1 and after < 1000
            collector.close()

    run(scenario())


def test_another_service_on_the_port_is_an_invalid_frame() -> None:
    async def http_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(12)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()

    async def scenario() -> None:
        server = await asyncio.start_server(http_like, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            collector = ModbusCollector(
                [device("web", f"tcp://127.0.0.1:{port}", 1, "eastron-sdm120", retries=0, timeout=0.2)]
            )
            (result,) = await collector.poll_once()
            assert not result.ok
            assert collector.statuses()[0].last_error_kind == "invalid_frame"
            assert "48 54 54 50" in (result.error or "")  # "HTTP"
            collector.close()
        finally:
            server.close()

    run(scenario())


def _gapped_profile(forbidden: list[list[int]]) -> ModbusProfile:
    """Two float32 input registers at 0 and 4; addresses 2…3 between them are a hole in the map."""
    return ModbusProfile.model_validate(
        {
            "profile": {
                "id": "gapped",
                "manufacturer": "T",
                "model": "T",
                "protocol": "modbus",
                "kind": "electricity",
                "source": "test",
            },
            "modbus": {"function": "input", "type": "float32", "forbidden": forbidden},
            "registers": [{"name": "voltage_v", "address": 0}, {"name": "power_w", "address": 4}],
        }
    )


def test_profile_forbidden_ranges_are_never_read_from_the_first_poll() -> None:
    """A device that rejects its hole 2…3: declared in the profile, the first poll already splits
    around it (2 reads, no exception 02); undeclared, the poller learns it from the rejection."""
    declared, undeclared = _gapped_profile([[2, 3]]), _gapped_profile([])
    declared_meter = SimulatedModbusMeter(declared, unit_id=1, serial=1)
    strict_meter = SimulatedModbusMeter(undeclared, unit_id=2, serial=2, reject_unmapped=True)

    async def scenario() -> None:
        async with (
            tcp_simulator([declared_meter]) as (sim_a, url_a),
            tcp_simulator([strict_meter]) as (sim_b, url_b),
        ):
            collector = ModbusCollector(
                [
                    device("declared", url_a, 1, "gapped", serial="1"),
                    device("learnt", url_b, 2, "gapped-strict", serial="2"),
                ],
                {"gapped": declared, "gapped-strict": undeclared},
            )
            known, learnt = await collector.poll_once()
            assert known.ok and learnt.ok, (known.error, learnt.error)
            assert len(known.readings) == len(learnt.readings) == 2
            assert known.requests == 2 and sim_a.requests == 2  # no rejected read on the wire
            assert [(a.address, a.count) for a in sim_a.answered] == [(0, 2), (4, 2)]
            assert learnt.requests == sim_b.requests == 3  # one read 0…5 rejected, then the split
            collector.close()

    run(scenario())


def test_inter_frame_delay_is_kept_between_transactions_on_a_line() -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (sim, url):
            collector = ModbusCollector(
                [
                    device(
                        "m",
                        url,
                        1,
                        "eastron-sdm120",
                        serial="1",
                        one_register_per_request=True,
                        inter_frame_delay=0.05,
                    )
                ]
            )
            (result,) = await collector.poll_once()
            assert result.ok and result.requests == 7
            starts = [a.started for a in sim.answered]
            ends = [a.finished for a in sim.answered]
            gaps = [start - end for end, start in zip(ends, starts[1:], strict=False)]
            assert min(gaps) >= 0.045, gaps  # the collector waited before every next request
            collector.close()

    run(scenario())


def test_a_new_meter_model_is_a_file_not_code(tmp_path: Path) -> None:
    """A profile written to disk is served by the simulator and read by the collector by its path."""
    from meterhub.simulators.modbus_fleet import build_meters

    path = tmp_path / "acme-pulse4.toml"
    path.write_text(
        '[profile]\nid = "acme-pulse4"\nmanufacturer = "ACME"\nmodel = "Pulse-4"\nprotocol = "modbus"\n'
        'kind = "cold_water"\nsource = "test"\n'
        '[modbus]\nfunction = "input"\ntype = "uint32"\nbyte_order = "little"\n'
        '[[registers]]\nname = "water_m3"\nchannel = 1\naddress = 100\nfactor = 1.0\nscale = 0.001\n'
        '[[registers]]\nname = "water_m3"\nchannel = 2\naddress = 102\nfactor = 1.0\nscale = 0.001\n'
        '[serial]\naddress = 0\nfunction = "holding"\ntype = "bcd32"\n',
        encoding="utf-8",
    )
    (sim_meter,) = build_meters([str(path)], first_unit=4)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (sim, url):
            channels = {1: ChannelConfig(serial="A1"), 2: ChannelConfig(serial="A2")}
            collector = ModbusCollector([device("p4", url, 4, str(path), channels=channels)])
            (result,) = await collector.poll_once()
            assert result.ok, result.error
            truth = sim_meter.values(sim.clock.now())
            got = {r.meter_id: r.value for r in result.readings}
            assert got == pytest.approx(
                {"ACME-A1": truth[(1, "water_m3")], "ACME-A2": truth[(2, "water_m3")]}, abs=0.0011
            )
            assert collector.statuses()[0].serial == str(sim_meter.serial)  # BCD serial register
            collector.close()

    run(scenario())
