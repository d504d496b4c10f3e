"""Configuration: the shipped example loads; mistakes are reported with the file and the field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from meterhub.gateway.config import GatewayConfigError, load_config, parse_config
from meterhub.gateway.durations import format_duration, parse_duration

from .conftest import REPO

EXAMPLE = REPO / "docs" / "gateway.example.toml"

MINIMAL = """
[gateway]
id = "gw-1"
building = "B-001"
timezone = "Asia/Omsk"

[mqtt]
url = "mqtt://127.0.0.1:1883"

[outbox]
path = "outbox.sqlite3"

[[buses]]
name = "rs485"
type = "modbus-rtu"
port = "/dev/ttyUSB0"

[[devices]]
bus = "rs485"
address = 5
profile = "eastron-sdm120"
"""


def test_example_config_loads_with_every_bus_type() -> None:
    config = load_config(EXAMPLE)
    assert config.gateway.timezone == "Europe/Moscow"
    assert {b.type for b in config.buses} == {"modbus-rtu", "modbus-tcp", "mbus"}
    assert config.mqtt.uses_tls and config.mqtt.port == 8883
    assert config.interval_of(config.devices[1]) == timedelta(hours=1)
    assert config.interval_of(config.devices[0]) == timedelta(minutes=15)
    assert config.devices[2].channels[1].serial == "20231234"
    assert config.devices[4].secondary == "10000003"
    assert config.bus("rs485-1").endpoint() == "rtu:///dev/ttyUSB0?baudrate=9600&parity=N&stopbits=1"
    assert config.bus("lan-meters").endpoint() == "tcp://10.0.0.5:502"


def test_minimal_config_defaults_and_relative_outbox_path(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text(MINIMAL)
    config = load_config(path)
    assert config.outbox.path == tmp_path / "outbox.sqlite3"
    assert config.outbox.batch_size == 500 and config.outbox.batch_time == timedelta(seconds=5)
    assert config.schedule.interval == timedelta(minutes=15)
    assert config.mqtt.protocol == "auto" and not config.mqtt.uses_tls
    assert config.devices[0].label == "rs485/5"


def _error(text: str) -> str:
    with pytest.raises(GatewayConfigError) as info:
        parse_config(text, "gw.toml")
    return str(info.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('timezone = "Asia/Omsk"', 'timezone = "UTC+6"'),
            "gw.toml: gateway.timezone: unknown time zone 'UTC+6'",
        ),
        (('id = "gw-1"', 'id = "gw 1"'), "gw.toml: gateway.id: String should match pattern"),
        (('url = "mqtt://127.0.0.1:1883"', 'url = "http://x"'), "gw.toml: mqtt.url: broker url 'http://x'"),
        (("address = 5", "adress = 5"), "gw.toml: devices[0] (rs485/?).adress: unknown field"),
        (
            ("address = 5", 'address = 5\ninterval = "7m"'),
            "devices[0] (rs485/5).interval: poll interval 7m must divide",
        ),
        (("address = 5", 'address = 5\ninterval = "soon"'), "'soon' is not a duration"),
        (
            ('bus = "rs485"', 'bus = "rs-485"'),
            "devices[0] (rs-485/5): bus 'rs-485' is not defined; known: rs485",
        ),
        (('profile = "eastron-sdm120"', ""), "a Modbus device needs 'profile'"),
        (("address = 5", 'address = 5\nsecondary = "12345678"'), "give exactly one of 'address'"),
        (
            ('type = "modbus-rtu"', 'type = "zigbee"'),
            "gw.toml: buses[0] (rs485): type 'zigbee' is not supported; use one of",
        ),
        (('port = "/dev/ttyUSB0"', 'port = "/dev/ttyUSB0"\nparity = "X"'), "buses[0] (rs485).parity"),
        (('[outbox]\npath = "outbox.sqlite3"', "[outbox]"), "gw.toml: outbox.path: missing (required)"),
        (
            ('url = "mqtt://127.0.0.1:1883"', 'url = "mqtt://h"\npassword = "x"'),
            "a password needs a username",
        ),
    ],
)
def test_errors_name_file_entry_and_field(change: tuple[str, str], expected: str) -> None:
    assert change[0] in MINIMAL
    assert expected in _error(MINIMAL.replace(change[0], change[1], 1))


def test_several_problems_one_line_each_and_bad_toml() -> None:
    text = MINIMAL.replace("address = 5", "address = 300").replace(
        'timezone = "Asia/Omsk"', 'timezone = "Mars"'
    )
    lines = _error(text).splitlines()
    assert len(lines) == 2 and all(line.startswith("gw.toml: ") for line in lines)
    assert "not valid TOML" in _error("[gateway\n")


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match=r"nowhere\.toml: cannot read"):
        load_config(tmp_path / "nowhere.toml")


def test_tls_needs_cert_and_key_together() -> None:
    text = MINIMAL.replace(
        'url = "mqtt://127.0.0.1:1883"', 'url = "mqtts://h"\n[mqtt.tls]\ncert_file = "c.pem"'
    )
    assert "needs both cert_file and key_file" in _error(text)


def test_cli_check_reports_ok_and_errors(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from meterhub.cli.main import app

    ok = CliRunner().invoke(app, ["gateway", "--config", str(EXAMPLE), "--check"])
    assert ok.exit_code == 0 and "5 device(s)" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace('timezone = "Asia/Omsk"', 'timezone = "Nowhere/City"'))
    result = CliRunner().invoke(app, ["gateway", "--config", str(bad)])
    assert result.exit_code == 2 and "bad.toml: gateway.timezone: unknown time zone" in result.output


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("30s", 30), ("1h30m", 5400), ("2d", 172800), (900, 900), ("0.5s", 0.5)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_duration_format() -> None:
    assert format_duration(timedelta(minutes=15)) == "15m"
    assert format_duration(timedelta(seconds=1.5)) == "1.5s"


def test_cli_names_the_device_with_a_bad_profile_and_an_unusable_outbox(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from meterhub.cli.main import app

    cases = {
        "eastron-sdm999": "devices[0] (rs485/5): no profile 'eastron-sdm999'",
        "kamstrup-multical-601": "(rs485/5): profile 'kamstrup-multical-601' is not a Modbus profile",
    }
    for profile, expected in cases.items():
        path = tmp_path / f"{profile}.toml"
        path.write_text(MINIMAL.replace("eastron-sdm120", profile))
        result = CliRunner().invoke(app, ["gateway", "--config", str(path), "--check"])
        assert result.exit_code == 2 and expected in result.output, result.output
    blocked = tmp_path / "blocked.toml"
    blocked.write_text(MINIMAL.replace('path = "outbox.sqlite3"', 'path = "/dev/null/outbox.sqlite3"'))
    result = CliRunner().invoke(app, ["gateway", "--config", str(blocked)])
    assert result.exit_code == 1 and "cannot open the outbox /dev/null/outbox.sqlite3" in result.output


def test_mbus_devices_refuse_modbus_only_fields() -> None:
    text = MINIMAL.replace('type = "modbus-rtu"', 'type = "mbus"').replace(
        'profile = "eastron-sdm120"', 'serial = "1"'
    )
    assert "devices[0] (rs485/5): serial not used on M-Bus" in _error(text)


def test_docs_show_the_example_file_verbatim() -> None:
    doc = (REPO / "docs" / "gateway.md").read_text()
    assert "```toml\n" + EXAMPLE.read_text() + "```" in doc
