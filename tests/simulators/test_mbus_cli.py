"""``meterhub read mbus`` against the simulator over TCP (the simulate command only wires the
simulator classes tested elsewhere and runs until Ctrl-C)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import typer
from typer.testing import CliRunner

from meterhub.cli import mbus_cmds
from meterhub.simulators.mbus_meters import demo_meters
from meterhub.simulators.mbus_sim import MbusLine, TcpMbusServer


@pytest.fixture(scope="module")
def url():
    line = MbusLine(demo_meters(1, 2, datetime.now(UTC)))
    with TcpMbusServer(line) as server:
        yield server.url


def run(*args: str):
    app = typer.Typer()
    app.add_typer(mbus_cmds.read_app, name="read")
    return CliRunner().invoke(app, ["read", "mbus", *args, "--baudrate", "38400", "--extra-timeout", "0"])


def test_read_by_primary_address_prints_records_and_readings(url):
    result = run(url, "--address", "1")
    assert result.exit_code == 0, result.output
    assert "telegram 2/2" in result.output and "kamstrup-multical-601" in result.output
    assert "heat_gcal" in result.output and "KAM-10000001" in result.output


def test_read_by_secondary_address_and_scan(url):
    result = run(url, "--secondary", "10000003")
    assert result.exit_code == 0, result.output
    assert "water_m3" in result.output and "EFE-10000003" in result.output
    result = run(url, "--scan", "--secondary", "1000000F")
    assert result.exit_code == 0 and "3 meter(s)" in result.output, result.output


def test_errors_are_one_clear_line(url):
    result = run(url, "--address", "42")
    assert result.exit_code == 1 and "address 42: no acknowledge" in result.output
    result = run(url, "--address", "1", "--scan")
    assert result.exit_code != 0


def test_simulate_runs_for_a_duration_on_a_pty():
    app = typer.Typer()
    app.add_typer(mbus_cmds.simulate_app, name="simulate")
    result = CliRunner().invoke(
        app,
        ["simulate", "mbus", "--transport", "pty", "--heat", "1", "--water", "1", "--duration", "0.3",
         "--fault", "2:bad_checksum=1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "serial device /dev/" in result.output and "secondary 10000002 EFE" in result.output
    assert "served 0 requests" in result.output
    bad = CliRunner().invoke(app, ["simulate", "mbus", "--duration", "0.1", "--fault", "9:no_answer=1"])
    assert bad.exit_code != 0 and "no meter at that address" in bad.output


def read_water_meter_with(fault: str):
    """``read mbus`` of one simulated water meter whose next answer has ``fault``."""
    meters = demo_meters(0, 1, datetime.now(UTC))
    setattr(meters[0].faults, fault, 1)
    with TcpMbusServer(MbusLine(meters)) as server:
        return run(server.url, "--address", "1")


def test_read_prints_an_application_error_report():
    result = read_water_meter_with("application_error")
    assert result.exit_code == 0, result.output
    assert "the meter reports application error 8 (application too busy" in result.output


def test_read_shows_a_damaged_telegram_and_its_bad_readings():
    result = read_water_meter_with("damaged_telegram")
    assert result.exit_code == 0, result.output
    assert "DAMAGED telegram: record structure broken at offset" in result.output
    assert "premature end of data" in result.output
    assert "water_m3" in result.output and "BAD" in result.output and "GOOD" not in result.output
