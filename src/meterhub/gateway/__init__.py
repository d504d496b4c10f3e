"""The edge gateway of one building: schedule, outbox, MQTT publisher, status.

Names are imported lazily so that ``import meterhub.gateway`` stays light (no paho, pymodbus or
pyserial until they are used) and never touches the server stack.

    from meterhub.gateway import Gateway, load_config
    await Gateway(load_config("gateway.toml")).run()
"""

from __future__ import annotations

from meterhub.core.lazy import lazy_exports

_EXPORTS = {
    "Gateway": "runner",
    "GatewayStartError": "runner",
    "run_gateway": "runner",
    "GatewayConfig": "config",
    "GatewayConfigError": "config",
    "load_config": "config",
    "parse_config": "config",
    "Outbox": "outbox",
    "DeviceSchedule": "schedule",
    "SlotKind": "schedule",
    "WallClock": "clock",
    "ScaledClock": "clock",
    "build_readers": "devices",
    "DeviceSetupError": "devices",
    "read_stamp": "stamping",
    "SecondGuard": "stamping",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
