"""Device configuration and the pure words → Reading step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from modbus_support import device, meter, modbus_profile, run, tcp_simulator
from pydantic import ValidationError

from meterhub.collectors.modbus.device import ModbusDeviceConfig, build_readings, parse_endpoint
from meterhub.collectors.modbus.poller import ModbusCollector
from meterhub.collectors.profiles import parse_profile

TS = datetime(2026, 1, 12, tzinfo=UTC)


def test_endpoints_parse_and_explain_mistakes() -> None:
    rtu = parse_endpoint("rtu:///dev/ttyUSB0?baudrate=19200&parity=e&stopbits=2")
    assert (rtu.device, rtu.baudrate, rtu.parity, rtu.stopbits, rtu.is_serial_line) == (
        "/dev/ttyUSB0",
        19200,
        "E",
        2,
        True,
    )
    assert rtu.character_time() == pytest.approx(11 / 19200)
    tcp = parse_endpoint("tcp://10.0.0.5")
    assert (tcp.host, tcp.port, tcp.is_serial_line) == ("10.0.0.5", 502, False)
    assert parse_endpoint("rtu+tcp://gw:4001").is_serial_line
    for bad, message in [
        ("udp://x:1", "scheme must be"),
        ("rtu://?baudrate=9600", "missing serial device"),
        ("rtu:///dev/ttyS0?speed=9600", "unknown option"),
        ("rtu:///dev/ttyS0?parity=X", "parity must be"),
        ("tcp://:502", "missing host"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_endpoint(bad)


def test_unit_id_limits_depend_on_the_transport() -> None:
    ModbusDeviceConfig(name="gw", endpoint="tcp://10.0.0.5:502", unit_id=255, profile="eastron-sdm120")
    with pytest.raises(ValidationError, match="unit id 0 on a serial line must be 1…247"):
        ModbusDeviceConfig(name="x", endpoint="rtu:///dev/ttyS0", unit_id=0, profile="eastron-sdm120")


def test_frame_delay_defaults_to_three_and_a_half_characters_on_rtu() -> None:
    rtu = ModbusDeviceConfig(name="x", endpoint="rtu:///dev/ttyS0?baudrate=9600", profile="eastron-sdm120")
    assert rtu.frame_delay() == pytest.approx(3.5 * 11 / 9600)
    tcp = ModbusDeviceConfig(name="x", endpoint="tcp://h", profile="eastron-sdm120", inter_frame_delay=0.01)
    assert tcp.frame_delay() == 0.01


def test_undecodable_bcd_is_reported_apart_not_as_a_value() -> None:
    profile = parse_profile(
        '[profile]\nid = "bcd"\nmanufacturer = "ACME"\nmodel = "B"\nprotocol = "modbus"\n'
        'kind = "cold_water"\nsource = "test"\n'
        '[[registers]]\nname = "water_m3"\naddress = 0\ntype = "bcd32"\nscale = 0.001\n'
        '[[registers]]\nname = "flow_m3h"\naddress = 2\ntype = "bcd16"\nscale = 0.01\n'
    )
    config = ModbusDeviceConfig(name="b", endpoint="tcp://h", profile="bcd", serial="77")
    words = {(0, "water_m3"): [0x0012, 0x3456], (0, "flow_m3h"): [0x12F4]}
    readings, bad = build_readings(profile, config, words, TS, "77")  # type: ignore[arg-type]
    got = [(r.meter_id, r.register, r.value, r.unit) for r in readings]
    assert got == [("ACME-77", "water_m3", 123.456, "m3")]
    assert bad[0].register == "flow_m3h" and "0xF" in bad[0].message and bad[0].words == (0x12F4,)


def test_device_config_rejects_unknown_channels_and_missing_serial() -> None:
    with pytest.raises(ValueError, match="has no \\[serial\\] register"):
        ModbusCollector([device("em", "tcp://127.0.0.1:1", 1, "carlo-gavazzi-em111")])
    with pytest.raises(ValueError, match="channel 13 is not in profile"):
        ModbusCollector(
            [device("adam", "tcp://127.0.0.1:1", 1, "advantech-adam6051", channels={13: {"serial": "X"}})]
        )
    assert modbus_profile("advantech-adam6051").channels[-1] == 12
    with pytest.raises(ValueError, match="reports only the meters on its channels"):
        ModbusCollector([device("adam", "tcp://127.0.0.1:1", 1, "advantech-adam6051")])


def test_collector_reconnects_after_the_server_restarts() -> None:
    sim_meter = meter("eastron-sdm120", 1)

    async def scenario() -> None:
        async with tcp_simulator([sim_meter]) as (_, url):
            collector = ModbusCollector([device("m", url, 1, "eastron-sdm120", retries=0)])
            (first,) = await collector.poll_once()
            assert first.ok
        (down,) = await collector.poll_once()  # the server is gone
        assert not down.ok
        from meterhub.simulators.modbus_meters import SimClock
        from meterhub.simulators.modbus_sim import ModbusSimulator

        port = int(url.rsplit(":", 1)[1])
        sim = ModbusSimulator([sim_meter], SimClock(TS, speed=0.0))
        await sim.start_tcp(port=port)
        try:
            (back,) = await collector.poll_once()
            assert back.ok, back.error
            assert collector.statuses()[0].online is True
        finally:
            collector.close()
            await sim.stop()

    run(scenario())
