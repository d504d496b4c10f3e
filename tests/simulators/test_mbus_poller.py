"""The M-Bus line poller against the simulator over TCP: readings, per-device status, logging
once on down/up, meter replacement, configuration validation."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from meterhub.collectors.mbus.poller import MbusDeviceConfig, MbusLineConfig, MbusLinePoller
from meterhub.collectors.mbus.transport import LineSettings, SerialTransport
from meterhub.core import ReadingQuality
from meterhub.simulators.mbus_meters import SimulatedMeter
from meterhub.simulators.mbus_sim import MbusLine, TcpMbusServer

START = datetime(2026, 2, 3, 7, 0, tzinfo=UTC)
FAST = LineSettings(baudrate=38400, extra_timeout_s=0.0, idle_s=0.01, fixed_delay_s=0.05)


@pytest.fixture()
def setup():
    now = [START]
    line = MbusLine(
        [
            SimulatedMeter("heat", "30000001", 1, START, start_value=2000.0, multi_telegram=True),
            SimulatedMeter("water", "30000002", 2, START, start_value=7.0),
        ],
        clock=lambda: now[0],
    )
    config = MbusLineConfig(
        url="socket://unused",
        devices=[
            MbusDeviceConfig(name="heat-1", address=1),
            MbusDeviceConfig(name="water-2", secondary="30000002"),
        ],
    )
    with TcpMbusServer(line) as server, SerialTransport(server.url, FAST) as transport:
        poller = MbusLinePoller(config, transport=transport, clock=lambda: now[0])
        yield poller, line, now


def test_poll_all_gives_readings_and_status(setup):
    poller, _line, now = setup
    heat, water = poller.poll_all()
    assert heat.ok and water.ok and heat.telegrams == 2
    assert {r.register for r in heat.readings} >= {"heat_gcal", "temp_flow_c", "flow_m3h"}
    assert heat.readings[0].meter_id == "KAM-30000001" and heat.readings[0].ts == now[0]
    assert water.readings[0].register == "water_m3" and water.readings[0].value == pytest.approx(
        7.0, abs=0.01
    )
    status = poller.status["water-2"]
    assert status.online and status.consecutive_failures == 0 and status.serial == "EFE-30000002"


def test_down_and_back_are_logged_once(setup, caplog):
    poller, line, _now = setup
    line.meters[0].faults.no_answer = 20
    with caplog.at_level(logging.INFO, logger="meterhub.collectors.mbus.poller"):
        for _ in range(3):
            result = poller.poll(poller.config.devices[0])
            assert not result.ok and result.error.startswith("timeout: M-Bus address 1")
        line.meters[0].faults.no_answer = 0
        assert poller.poll(poller.config.devices[0]).ok
    status = poller.status["heat-1"]
    assert status.online and status.total_failures == 3 and status.last_error_kind == "timeout"
    messages = [r.getMessage() for r in caplog.records]
    assert sum("is down" in m for m in messages) == 1 and sum("is back" in m for m in messages) == 1


def test_replacement_is_noticed(setup, caplog):
    poller, line, now = setup
    device = poller.config.devices[0]
    assert poller.poll(device).ok
    line.meters[0].replace("30000099", now[0])
    now[0] += timedelta(minutes=15)
    with caplog.at_level(logging.WARNING, logger="meterhub.collectors.mbus.poller"):
        result = poller.poll(device)
    assert result.readings[0].meter_id == "KAM-30000099"
    assert any("meter replaced" in r.getMessage() for r in caplog.records)


def test_config_is_validated_with_clear_messages():
    with pytest.raises(ValidationError, match="exactly one of 'address' or 'secondary'"):
        MbusDeviceConfig(name="x", address=1, secondary="12345678")
    with pytest.raises(ValidationError, match="must be 8"):
        MbusDeviceConfig(name="x", secondary="123")
    with pytest.raises(ValidationError, match="unique"):
        MbusLineConfig(
            url="/dev/null",
            devices=[MbusDeviceConfig(name="a", address=1), MbusDeviceConfig(name="a", address=2)],
        )


def test_application_error_is_a_device_status_not_readings(setup):
    poller, line, _now = setup
    line.meters[1].faults.application_error = 1
    line.meters[1].faults.application_error_code = 9
    water = poller.config.devices[1]
    result = poller.poll(water)
    assert not result.ok and not result.readings
    assert result.error == (
        "application_error: M-Bus socket://unused secondary 30000002: "
        "the meter reports application error 9 (too many readouts)"
    )
    status = poller.status["water-2"]
    assert status.last_error_kind == "application_error" and status.consecutive_failures == 1
    assert poller.poll(water).ok and status.consecutive_failures == 0


def test_damaged_telegram_gives_bad_readings_and_says_where(setup):
    # The heat meter cuts its first telegram inside its last record (checksum right): the "more
    # records follow" DIF 0x1F is lost with it, so the read-out ends after that telegram.
    poller, line, _now = setup
    line.meters[0].faults.damaged_telegram = 1
    heat = poller.config.devices[0]
    result = poller.poll(heat)
    assert result.ok and result.telegrams == 1 and result.readings  # the meter answered
    assert {r.quality for r in result.readings} == {ReadingQuality.BAD}
    assert any("telegram 1 of 1 is damaged" in p and "premature end of data" in p for p in result.problems)
    assert poller.status["heat-1"].online  # a damaged answer is not a dead meter
    again = poller.poll(heat)
    assert again.telegrams == 2 and {r.quality for r in again.readings} == {ReadingQuality.GOOD}
