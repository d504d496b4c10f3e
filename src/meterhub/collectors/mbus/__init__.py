"""M-Bus (EN 13757-2 link layer, EN 13757-3 application layer): frames, telegram decoding,
the master (primary/secondary addressing, multi-telegram read-out, secondary scan), transports
and the profile model that maps records to meterhub registers.

Names are imported lazily (see ``_EXPORTS``). Pure modules: ``frames``, ``datafields``,
``vif_tables``, ``records``, ``telegram``, ``addressing``, ``units``, ``profile``, ``mapping``.
I/O: ``transport`` (pyserial, imported when a transport is opened); ``master``, ``scan`` and
``poller`` drive a transport.
"""

from __future__ import annotations

from meterhub.core.lazy import lazy_exports

#: public name → the module that defines it. Imported on first use, so importing one module
#: (e.g. ``mbus.profile`` from the profile loader) never pulls in the master or the poller.
_EXPORTS = {
    "AckFrame": "frames",
    "ApplicationError": "telegram",
    "DataRecord": "records",
    "FixedHeader": "telegram",
    "FrameError": "frames",
    "Function": "records",
    "LineSettings": "transport",
    "LongFrame": "frames",
    "Mapped": "mapping",
    "MbusDeviceConfig": "poller",
    "MbusError": "master",
    "MbusLineConfig": "poller",
    "MbusLinePoller": "poller",
    "MbusMaster": "master",
    "MbusProfile": "profile",
    "MbusRecord": "profile",
    "PollResult": "poller",
    "ReadOut": "master",
    "RecordError": "records",
    "ScanResult": "scan",
    "SecondaryAddress": "addressing",
    "SelectOutcome": "master",
    "SelectionMask": "addressing",
    "SerialTransport": "transport",
    "ShortFrame": "frames",
    "Status": "telegram",
    "Telegram": "telegram",
    "choose_profile": "mapping",
    "decode_frame": "frames",
    "decode_telegram": "telegram",
    "encode_frame": "frames",
    "map_readings": "mapping",
    "scan_secondary": "scan",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS)
