"""Device configuration and the pure step from register words to ``Reading`` objects.

A device is one Modbus unit on one endpoint (a TCP server, a serial line, or a serial line behind a
TCP converter) read with one profile. Devices whose endpoints are equal share a line and its bus lock.

Endpoints are URLs::

    tcp://10.0.0.5:502                         Modbus/TCP (MBAP)
    rtu:///dev/ttyUSB0?baudrate=9600&parity=N  Modbus RTU on a serial port (8 data bits)
    rtu+tcp://10.0.0.6:4001                    Modbus RTU frames through a serial-to-Ethernet converter
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterhub.collectors.modbus.codec import DecodeError, decode, scale_value, shortest_float32
from meterhub.collectors.modbus.planning import PlanOptions, PlanState, Span
from meterhub.collectors.modbus.profile import DataType, Function, ModbusProfile, ModbusRegister
from meterhub.core.readings import Reading, ReadingQuality, make_meter_id
from meterhub.core.registers import REGISTERS

SERIAL_KEY = "__serial__"
BITS_PER_CHARACTER = 11  # RTU: start + 8 data + parity (or 2nd stop) + stop


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a line is: the transport and its address. Equal endpoints share one bus lock."""

    transport: Literal["tcp", "rtu", "rtu+tcp"]
    host: str = ""
    port: int = 0
    device: str = ""
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1

    @property
    def is_serial_line(self) -> bool:
        """RTU (directly or through a converter): one RS-485 line, one request at a time."""
        return self.transport != "tcp"

    def character_time(self) -> float:
        """Seconds one RTU character (11 bits) takes on the wire [s]."""
        return BITS_PER_CHARACTER / self.baudrate

    def __str__(self) -> str:
        if self.transport == "rtu":
            return f"rtu://{self.device}?baudrate={self.baudrate}&parity={self.parity}"
        return f"{self.transport}://{self.host}:{self.port}"


def parse_endpoint(url: str) -> Endpoint:
    """Parse an endpoint URL (see the module docstring); ValueError says what is wrong."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("tcp", "rtu+tcp"):
        if not parts.hostname:
            raise ValueError(f"endpoint {url!r}: missing host, e.g. {scheme}://10.0.0.5:502")
        default_port = 502 if scheme == "tcp" else 4001
        return Endpoint(transport=scheme, host=parts.hostname, port=parts.port or default_port)  # type: ignore[arg-type]
    if scheme == "rtu":
        device = (parts.netloc + parts.path) or ""
        if not device:
            raise ValueError(
                f"endpoint {url!r}: missing serial device, e.g. rtu:///dev/ttyUSB0?baudrate=9600"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"baudrate", "parity", "stopbits"}
        if unknown:
            raise ValueError(
                f"endpoint {url!r}: unknown option(s) {sorted(unknown)}; use baudrate, parity, stopbits"
            )
        parity = query.get("parity", "N").upper()
        if parity not in ("N", "E", "O"):
            raise ValueError(f"endpoint {url!r}: parity must be N, E or O")
        try:
            baudrate = int(query.get("baudrate", "9600"))
            stopbits = int(query.get("stopbits", "1"))
        except ValueError:
            raise ValueError(f"endpoint {url!r}: baudrate and stopbits must be integers") from None
        return Endpoint(transport="rtu", device=device, baudrate=baudrate, parity=parity, stopbits=stopbits)  # type: ignore[arg-type]
    raise ValueError(f"endpoint {url!r}: scheme must be tcp://, rtu:// or rtu+tcp://")


class ChannelConfig(BaseModel):
    """The meter behind one channel of a multi-channel device (e.g. a water meter on a pulse input)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    serial: str = Field(min_length=1)
    manufacturer: str | None = None
    factor: float | None = Field(default=None, description="overrides the profile factor (e.g. L/pulse)")
    offset: float | None = Field(default=None, description="added to the value [unit]")


class ModbusDeviceConfig(BaseModel):
    """One Modbus device to poll. Timeouts and delays in seconds [s]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    endpoint: str
    unit_id: int = Field(default=1, ge=0, le=255, description="1…247 on RTU; TCP devices may use 0 or 255")
    profile: str = Field(description="shipped profile id or a path to a .toml profile")
    manufacturer: str | None = Field(default=None, description="defaults to the profile's manufacturer")
    serial: str | None = Field(default=None, description="unset: read the profile's [serial] register")
    channels: dict[int, ChannelConfig] = Field(default_factory=dict)
    timeout: float = Field(default=1.0, gt=0, le=60)
    retries: int = Field(default=2, ge=0, le=10)
    backoff: float = Field(default=0.05, ge=0, le=10, description="first retry delay, doubled each retry")
    inter_frame_delay: float | None = Field(
        default=None, ge=0, le=5, description="pause between frames; default 3.5 characters on RTU, 0 on TCP"
    )
    max_registers_per_read: int | None = Field(default=None, ge=1, le=125)
    max_gap: int | None = Field(default=None, ge=0, le=125)
    one_register_per_request: bool | None = None

    @field_validator("endpoint")
    @classmethod
    def _endpoint_valid(cls, value: str) -> str:
        parse_endpoint(value)
        return value

    @model_validator(mode="after")
    def _unit_fits_transport(self) -> ModbusDeviceConfig:
        if self.parsed_endpoint.is_serial_line and not 1 <= self.unit_id <= 247:
            raise ValueError(f"device {self.name!r}: unit id {self.unit_id} on a serial line must be 1…247")
        return self

    @property
    def parsed_endpoint(self) -> Endpoint:
        return parse_endpoint(self.endpoint)

    def plan_options(self, profile: ModbusProfile) -> PlanOptions:
        """The profile's reading quirks, overridden by this device's configuration."""
        d = profile.modbus
        return PlanOptions(
            max_registers_per_read=self.max_registers_per_read or d.max_registers_per_read,
            max_gap=d.max_gap if self.max_gap is None else self.max_gap,
            one_register_per_request=(
                d.one_register_per_request
                if self.one_register_per_request is None
                else self.one_register_per_request
            ),
        )

    def frame_delay(self) -> float:
        """Pause between the end of one transaction and the next request on the line [s]."""
        if self.inter_frame_delay is not None:
            return self.inter_frame_delay
        endpoint = self.parsed_endpoint
        return 3.5 * endpoint.character_time() if endpoint.is_serial_line else 0.0


@dataclass(frozen=True, slots=True)
class UndecodableValue:
    """A register whose words could not be decoded (e.g. a BCD nibble above 9)."""

    register: str
    channel: int
    words: tuple[int, ...]
    message: str


def check_device(config: ModbusDeviceConfig, profile: ModbusProfile) -> None:
    """Whether ``config`` can be read with ``profile``; ValueError names the device and the fix.

    A device whose own registers (channel 0) need a meter id must have a serial: configured, or read
    from the profile's ``[serial]`` register. Channels must exist in the profile, and a profile of
    channels only (a pulse counter) needs at least one configured channel, or nothing is reported.
    """
    has_main_registers = any(reg.channel == 0 for reg in profile.registers)
    if has_main_registers and config.serial is None and profile.serial is None:
        raise ValueError(
            f"device {config.name!r}: profile {profile.id!r} has no [serial] register; "
            "set 'serial' in the device configuration (meterhub read: --serial)"
        )
    for channel in config.channels:
        if channel not in profile.channels:
            raise ValueError(
                f"device {config.name!r}: channel {channel} is not in profile {profile.id!r} "
                f"(channels: {', '.join(map(str, profile.channels))})"
            )
    if not has_main_registers and not config.channels:
        raise ValueError(
            f"device {config.name!r}: profile {profile.id!r} reports only the meters on its channels "
            f"({', '.join(map(str, profile.channels))}); configure at least one "
            "(meterhub read: -c CHANNEL=SERIAL)"
        )


def span_label(key: Hashable) -> str:
    """A span key as a person reads it: ``serial``, ``voltage_v``, ``water_m3 (channel 2)``."""
    if key == SERIAL_KEY:
        return "serial"
    channel, name = key  # type: ignore[misc]
    return str(name) if channel == 0 else f"{name} (channel {channel})"


def profile_spans(profile: ModbusProfile, *, read_serial: bool) -> list[Span]:
    """The spans to read for a profile; keys are ``(channel, register name)`` and ``SERIAL_KEY``."""
    spans = [Span((reg.channel, reg.name), reg.function, reg.address, reg.count) for reg in profile.registers]
    if read_serial and profile.serial is not None:
        s = profile.serial
        spans.append(Span(SERIAL_KEY, s.function, s.address, s.count))
    return spans


def profile_plan_state(profile: ModbusProfile) -> PlanState:
    """What the planner knows before the first poll: the profile's ``forbidden`` ranges.

    A range in ``[modbus] forbidden`` is an address block the device rejects in either table, so it
    is forbidden for holding and input reads alike: no read spans it, from the very first poll.
    """
    state = PlanState()
    for function in Function:
        state = state.with_forbidden(function, profile.modbus.forbidden)
    return state


def serial_from_words(profile: ModbusProfile, words: Sequence[int]) -> str:
    """The serial number the device reports in its ``[serial]`` register, as decimal text."""
    assert profile.serial is not None
    raw = decode(words, profile.serial.encoding)
    return str(int(raw))


def register_value(reg: ModbusRegister, words: Sequence[int], channel: ChannelConfig | None = None) -> float:
    """The value of one profile register in meterhub units: ``raw × scale × factor + offset``."""
    raw = decode(words, reg.encoding)
    if reg.type is DataType.FLOAT32:
        raw = shortest_float32(float(raw))
    factor = channel.factor if channel is not None and channel.factor is not None else reg.factor
    offset = reg.offset + (channel.offset if channel is not None and channel.offset is not None else 0.0)
    return scale_value(raw, reg.scale, factor, offset)


def build_readings(
    profile: ModbusProfile,
    config: ModbusDeviceConfig,
    words: Mapping[Hashable, Sequence[int]],
    ts: datetime,
    device_serial: str | None,
) -> tuple[list[Reading], list[UndecodableValue]]:
    """Turn the words read for each span key into readings; undecodable values are returned apart.

    Channel 0 is the device itself (``device_serial``); other channels are the meters configured in
    ``config.channels`` — a channel without configuration is not reported (nothing is attached).
    """
    manufacturer = config.manufacturer or profile.profile.manufacturer
    readings: list[Reading] = []
    errors: list[UndecodableValue] = []
    for reg in profile.registers:
        key = (reg.channel, reg.name)
        if key not in words:
            continue
        channel_cfg = config.channels.get(reg.channel)
        if reg.channel == 0:
            if not device_serial:
                continue
            meter_id = make_meter_id(manufacturer, device_serial)
        else:
            if channel_cfg is None:
                continue
            meter_id = make_meter_id(channel_cfg.manufacturer or manufacturer, channel_cfg.serial)
        try:
            value = register_value(reg, words[key], channel_cfg)
        except DecodeError as exc:
            errors.append(UndecodableValue(reg.name, reg.channel, tuple(words[key]), str(exc)))
            continue
        unit = REGISTERS[reg.name].unit.value
        readings.append(Reading(meter_id, reg.name, ts, value, unit, ReadingQuality.GOOD))
    return readings, errors
