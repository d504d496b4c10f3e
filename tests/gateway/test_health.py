"""Device health: transitions logged once, status document follows the contract."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from meterhub.core.mqtt_contract import parse_status
from meterhub.gateway.health import HealthBoard, encode_status

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_transitions_are_logged_once_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="meterhub.gateway.health")
    board = HealthBoard("gw-1", "B-001", ["rs485/1", "rs485/2"])
    assert board.success("rs485/1", T0, {"EAS-1"})  # unknown → online: a change
    assert not board.success("rs485/1", T0 + timedelta(minutes=15), {"EAS-1"})
    assert board.failure("rs485/2", T0, "timeout: no answer within 1 s")
    assert not board.failure("rs485/2", T0 + timedelta(minutes=15), "timeout: no answer within 1 s")
    assert not board.failure("rs485/2", T0 + timedelta(minutes=30), "crc: CRC error")
    assert board.success("rs485/2", T0 + timedelta(minutes=45), {"EAS-2"})
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "device rs485/2 is down: timeout: no answer within 1 s",
        "device rs485/2 is back after 3 failed read(s)",
    ]
    assert board.success("rs485/1", T0, {"EAS-1", "EAS-9"})  # a new meter behind the device is a change


def test_status_document_follows_the_contract() -> None:
    board = HealthBoard("gw-1", "B-001", ["rs485/1", "mbus/5"])
    board.success("rs485/1", T0, {"EAS-1"})
    board.failure("mbus/5", T0, "x" * 900)
    status = parse_status(encode_status(board.status("online", T0, backlog=12, oldest=T0, dropped=3)))
    assert status.state == "online" and status.outbox_backlog == 12 and status.outbox_oldest == T0
    assert status.outbox_dropped == 3
    health = {d.device: d for d in status.devices}
    assert health["rs485/1"].online and health["rs485/1"].meter_ids == ["EAS-1"]
    assert not health["mbus/5"].online and health["mbus/5"].consecutive_failures == 1
    assert len(health["mbus/5"].last_error or "") == 500  # the contract's limit
    will = parse_status(encode_status(board.status("offline", T0, with_devices=False)))
    assert will.state == "offline" and will.devices == []
