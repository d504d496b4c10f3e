"""The Modbus device profile: which registers to read and how to turn their words into values.

This module is the shared data model of a Modbus meter model. The collectors decode with it and the
simulator encodes with it, so it holds data and validation only (no decoding, no I/O).

Example (``profile_data/eastron-sdm120.toml``)::

    [profile]
    id = "eastron-sdm120"
    manufacturer = "Eastron"
    model = "SDM120-Modbus"
    protocol = "modbus"
    kind = "electricity"
    source = "Eastron SDM120-Modbus protocol V2.4"

    [modbus]                      # defaults for every register below
    function = "input"
    type = "float32"

    [[registers]]
    name = "energy_import_kwh"    # a meterhub register (core catalogue)
    address = 0x0048              # 0-based protocol address (PDU address)
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterhub.collectors.profile_base import DeviceProfile, RegisterName
from meterhub.core.registers import REGISTERS

MAX_ADDRESS = 0xFFFF
#: Modbus limit for one read of holding/input registers (function codes 3 and 4).
MAX_REGISTERS_PER_READ = 125


class Function(StrEnum):
    """Which table a register lives in: holding (function code 3) or input (function code 4)."""

    HOLDING = "holding"
    INPUT = "input"

    @property
    def code(self) -> int:
        return 3 if self is Function.HOLDING else 4


class DataType(StrEnum):
    """How the register words encode a number."""

    INT16 = "int16"
    UINT16 = "uint16"
    INT32 = "int32"
    UINT32 = "uint32"
    INT64 = "int64"
    UINT64 = "uint64"
    FLOAT32 = "float32"
    FLOAT64 = "float64"
    BCD16 = "bcd16"  # 4 decimal digits in one register
    BCD32 = "bcd32"  # 8 decimal digits in two registers

    @property
    def register_count(self) -> int:
        """Number of 16-bit registers a value of this type occupies."""
        return _REGISTER_COUNT[self]


_REGISTER_COUNT = {
    DataType.INT16: 1,
    DataType.UINT16: 1,
    DataType.BCD16: 1,
    DataType.INT32: 2,
    DataType.UINT32: 2,
    DataType.FLOAT32: 2,
    DataType.BCD32: 2,
    DataType.INT64: 4,
    DataType.UINT64: 4,
    DataType.FLOAT64: 4,
}


class Order(StrEnum):
    """Byte order inside a register, or word order across the registers of one value.

    ``big``: most significant first (the Modbus default, "ABCD"). ``little``: least significant
    first. Byte order ``little`` with word order ``big`` is "BADC"; ``big``/``little`` is "CDAB".
    """

    BIG = "big"
    LITTLE = "little"


class Encoding(BaseModel):
    """How one value is laid out in registers: type, byte order and word order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: DataType
    byte_order: Order = Order.BIG
    word_order: Order = Order.BIG

    @property
    def register_count(self) -> int:
        return self.type.register_count


class ModbusDefaults(BaseModel):
    """The ``[modbus]`` table: defaults for the registers and the device's reading quirks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    function: Function = Function.HOLDING
    type: DataType = DataType.UINT16
    byte_order: Order = Order.BIG
    word_order: Order = Order.BIG
    max_registers_per_read: int = Field(default=MAX_REGISTERS_PER_READ, ge=1, le=MAX_REGISTERS_PER_READ)
    max_gap: int = Field(default=16, ge=0, le=MAX_REGISTERS_PER_READ, description="registers read across [-]")
    one_register_per_request: bool = False
    forbidden: list[tuple[int, int]] = Field(
        default_factory=list, description="inclusive address ranges the device rejects, never read"
    )

    @field_validator("forbidden")
    @classmethod
    def _ranges_valid(cls, value: list[tuple[int, int]]) -> list[tuple[int, int]]:
        for start, end in value:
            if not 0 <= start <= end <= MAX_ADDRESS:
                raise ValueError(f"forbidden range [{start}, {end}] must satisfy 0 <= start <= end <= 65535")
        return value


class ModbusRegister(BaseModel):
    """One ``[[registers]]`` entry: a meterhub register read from the device.

    The value is ``raw × scale × factor + offset`` in the catalogue unit of ``name``.
    ``factor`` is the per-channel multiplier (e.g. litres per pulse) that a device configuration
    may override for one channel; ``channel`` numbers the meters behind one device (a pulse
    counter's inputs), 0 being the device itself.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: RegisterName
    address: int
    function: Function
    type: DataType
    byte_order: Order
    word_order: Order
    scale: float = 1.0
    offset: float = 0.0
    factor: float = 1.0
    channel: int = Field(default=0, ge=0, le=255)
    unit: str | None = None

    @property
    def encoding(self) -> Encoding:
        return Encoding(type=self.type, byte_order=self.byte_order, word_order=self.word_order)

    @property
    def count(self) -> int:
        return self.type.register_count

    @property
    def end(self) -> int:
        """Last address the value occupies (inclusive)."""
        return self.address + self.count - 1

    @model_validator(mode="after")
    def _consistent(self) -> ModbusRegister:
        if not 0 <= self.address <= MAX_ADDRESS:
            raise ValueError(f"address {self.address} out of range 0..{MAX_ADDRESS}")
        if self.end > MAX_ADDRESS:
            raise ValueError(
                f"address {self.address} + {self.count} registers of {self.type} runs past {MAX_ADDRESS}"
            )
        catalogue_unit = REGISTERS[self.name].unit.value
        if self.unit is not None and self.unit != catalogue_unit:
            raise ValueError(
                f"unit {self.unit!r} differs from the catalogue unit {catalogue_unit!r}; "
                "convert with scale (e.g. Wh → kWh: scale = 0.001)"
            )
        if self.scale == 0 or self.factor == 0:
            raise ValueError("scale and factor must not be zero")
        return self


class SerialRegister(BaseModel):
    """The optional ``[serial]`` table: where the device reports its own serial number."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: int = Field(ge=0, le=MAX_ADDRESS)
    function: Function = Function.HOLDING
    type: DataType = DataType.UINT32
    byte_order: Order = Order.BIG
    word_order: Order = Order.BIG

    @property
    def encoding(self) -> Encoding:
        return Encoding(type=self.type, byte_order=self.byte_order, word_order=self.word_order)

    @property
    def count(self) -> int:
        return self.type.register_count


class ModbusProfile(DeviceProfile):
    """A Modbus meter model: ``[profile]``, ``[modbus]`` defaults, ``[[registers]]``, ``[serial]``."""

    modbus: ModbusDefaults = Field(default_factory=ModbusDefaults)
    registers: list[ModbusRegister] = Field(min_length=1)
    serial: SerialRegister | None = None

    @model_validator(mode="before")
    @classmethod
    def _apply_defaults(cls, data: Any) -> Any:
        """Fill each register's function/type/orders from ``[modbus]`` before validation."""
        if not isinstance(data, dict):
            return data
        defaults = data.get("modbus") or {}
        registers = data.get("registers")
        if isinstance(defaults, dict) and isinstance(registers, list):
            fallback = {key: defaults.get(key, _DEFAULTS[key]) for key in _DEFAULTS}
            data = {
                **data,
                "registers": [
                    {**fallback, **entry} if isinstance(entry, dict) else entry for entry in registers
                ],
            }
        return data

    @model_validator(mode="after")
    def _unique_and_channels(self) -> ModbusProfile:
        seen: set[tuple[int, str]] = set()
        for reg in self.registers:
            key = (reg.channel, reg.name)
            if key in seen:
                raise ValueError(f"register {reg.name!r} appears twice on channel {reg.channel}")
            seen.add(key)
        for start, end in self.modbus.forbidden:
            for reg in self.registers:
                if reg.address <= end and reg.end >= start:
                    raise ValueError(
                        f"register {reg.name!r} at {reg.address} lies in forbidden range [{start}, {end}]"
                    )
        return self

    @property
    def channels(self) -> list[int]:
        """Channel numbers in use, ascending."""
        return sorted({reg.channel for reg in self.registers})


_DEFAULTS = {
    "function": Function.HOLDING.value,
    "type": DataType.UINT16.value,
    "byte_order": Order.BIG.value,
    "word_order": Order.BIG.value,
}
