"""Modbus collectors: profiles, pure decoding and request planning, TCP/RTU transport, polling.

Names are imported lazily so that importing the data model (``modbus.profile``) — as the simulator
does — never pulls in the decoder or the transport.
"""

from __future__ import annotations

from meterhub.core.lazy import lazy_exports

_EXPORTS = {
    "ModbusProfile": "profile",
    "ModbusRegister": "profile",
    "DataType": "profile",
    "Order": "profile",
    "Function": "profile",
    "Encoding": "profile",
    "decode": "codec",
    "encode": "codec",
    "DecodeError": "codec",
    "plan_reads": "planning",
    "PlanOptions": "planning",
    "ChannelConfig": "device",
    "ModbusDeviceConfig": "device",
    "parse_endpoint": "device",
    "check_device": "device",
    "plan_lines": "plan_view",
    "ModbusError": "errors",
    "DeviceStatus": "status",
    "DevicePoller": "poller",
    "ModbusCollector": "poller",
    "PollResult": "poller",
    "Transaction": "poller",
    "read_once": "poller",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
