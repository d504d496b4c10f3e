"""What can go wrong in one Modbus transaction. Each error knows a short ``kind`` for the status."""

from __future__ import annotations

EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}


class ModbusError(Exception):
    """A failed transaction (or poll). ``kind``: timeout, crc, short_frame, invalid_frame, exception,
    connection, no_values."""

    kind = "error"


class ModbusTimeout(ModbusError):
    kind = "timeout"


class ModbusCrcError(ModbusError):
    kind = "crc"


class ModbusShortFrame(ModbusError):
    kind = "short_frame"


class ModbusInvalidFrame(ModbusError):
    """Bytes arrived that are not a Modbus answer at all (wrong protocol, another service on the port)."""

    kind = "invalid_frame"


class ModbusConnectionError(ModbusError):
    kind = "connection"


class ModbusNoValues(ModbusError):
    """The device answered, but not one value could be read: every register refused or undecodable."""

    kind = "no_values"


class ModbusExceptionResponse(ModbusError):
    """The device answered with a Modbus exception (function code | 0x80)."""

    kind = "exception"

    def __init__(self, code: int, message: str = "") -> None:
        self.code = code
        name = EXCEPTION_NAMES.get(code, "unknown exception")
        super().__init__(message or f"exception {code:02d} ({name})")
