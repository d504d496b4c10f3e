"""`meterhub gateways` in a subprocess against a real database: register, move, password, retire, and the
broker files written from the registry (the printed password checked against the written hash)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from meterhub.timeseries.broker_acl import parse_passwd, verify_mosquitto_hash
from tests.cli.meterhub_cli import run_cli

pytestmark = pytest.mark.db


def _password(stdout: str) -> str:
    found = re.search(r"MQTT user \S+, password (\S+)", stdout)
    assert found, stdout
    return found.group(1)


def test_register_move_retire_and_write_the_broker_files(db_url: str, tmp_path: Path) -> None:
    out = run_cli(db_url, tmp_path, "gateways", "add", "gw-7", "--building", "B-007", "--note", "basement")
    assert out.returncode == 0, out.stderr
    first = _password(out.stdout)
    again = run_cli(db_url, tmp_path, "gateways", "add", "gw-7", "--building", "B-007")
    assert again.returncode == 0 and "password" not in again.stdout.split("\n")[1]  # keeps its password
    refused = run_cli(db_url, tmp_path, "gateways", "add", "gw-7", "--building", "B-008")
    assert refused.returncode == 1
    assert "registered to building 'B-007'" in refused.stderr and "--move" in refused.stderr
    bad = run_cli(db_url, tmp_path, "gateways", "add", "gw 7", "--building", "B-007")
    assert bad.returncode == 1 and "gateway id 'gw 7'" in bad.stderr
    assert run_cli(db_url, tmp_path, "gateways", "add", "gw-8", "--building", "B-008").returncode == 0

    acl, passwd = tmp_path / "acl", tmp_path / "gateways.passwd"
    out = run_cli(db_url, tmp_path, "gateways", "broker-config", "--acl", str(acl), "--passwd", str(passwd))
    assert out.returncode == 0, out.stderr
    assert verify_mosquitto_hash(first, parse_passwd(passwd.read_text())["gw-7"])
    assert "user gw-7\ntopic write meterhub/v1/B-007/gw-7/readings\n" in acl.read_text()
    assert "topic read meterhub/v1/B-007/gw-7/commits" in acl.read_text()

    moved = run_cli(db_url, tmp_path, "gateways", "add", "gw-7", "--building", "B-008", "--move")
    assert moved.returncode == 0, moved.stderr
    new = run_cli(db_url, tmp_path, "gateways", "passwd", "gw-7")
    assert new.returncode == 0
    assert run_cli(db_url, tmp_path, "gateways", "remove", "gw-8").returncode == 0
    listed = run_cli(db_url, tmp_path, "gateways", "list", "--all").stdout
    assert "B-008\tgw-7\tpassword\tbasement" in listed and "B-008\tgw-8\tretired password" in listed
    assert "gw-8" not in run_cli(db_url, tmp_path, "gateways", "list").stdout

    run_cli(db_url, tmp_path, "gateways", "broker-config", "--acl", str(acl), "--passwd", str(passwd))
    users = parse_passwd(passwd.read_text())
    assert set(users) == {"gw-7"} and verify_mosquitto_hash(_password(new.stdout), users["gw-7"])
    assert "meterhub/v1/B-008/gw-7/readings" in acl.read_text() and "B-007" not in acl.read_text()
    assert run_cli(db_url, tmp_path, "gateways", "remove", "gw-9").returncode == 1
