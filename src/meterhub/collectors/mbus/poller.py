"""Poll the meters of one M-Bus line: configuration, read-out, mapping and per-device status.

One ``MbusLinePoller`` per physical line (serial port or converter): it owns the transport and
its lock, polls its devices strictly one after another, and keeps a ``DeviceStatus`` per device
(last success, consecutive failures, last error). It logs once when a device goes down and once
when it returns, and warns when a device's identification number changes (meter replaced).
Polling never raises for device or line trouble; the result and the status say what happened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterhub.collectors.mbus.addressing import SelectionMask
from meterhub.collectors.mbus.mapping import choose_profile, map_readings
from meterhub.collectors.mbus.master import MbusError, MbusMaster, ReadOut, Transport
from meterhub.collectors.mbus.profile import MbusProfile
from meterhub.collectors.mbus.transport import LineSettings, SerialTransport
from meterhub.collectors.modbus.status import DeviceStatus
from meterhub.core.readings import Reading

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class MbusDeviceConfig(BaseModel):
    """One meter on the line, by primary or secondary address."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    address: int | None = Field(default=None, ge=0, le=250, description="primary address")
    secondary: str | None = Field(default=None, description="8 digits or 16 hex characters")
    profile: str | None = Field(default=None, description="profile id or .toml path; None: by manufacturer")
    reset: bool = Field(default=True, description="SND_NKE before each read-out")

    @field_validator("secondary")
    @classmethod
    def _secondary_valid(cls, value: str | None) -> str | None:
        if value is not None:
            SelectionMask.parse(value)
        return value

    @model_validator(mode="after")
    def _one_address(self) -> MbusDeviceConfig:
        if (self.address is None) == (self.secondary is None):
            raise ValueError(f"device {self.name!r}: give exactly one of 'address' or 'secondary'")
        return self


class MbusLineConfig(BaseModel):
    """One M-Bus line: where it is, its speed and timeouts, and its devices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="/dev/ttyUSB0 or socket://host:port")
    baudrate: int = Field(default=2400, ge=300, le=38400)
    extra_timeout_s: float = Field(default=0.05, ge=0, le=5)
    retries: int = Field(default=2, ge=0, le=10)
    devices: list[MbusDeviceConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> MbusLineConfig:
        names = [d.name for d in self.devices]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"line {self.url}: device names must be unique, repeated: {duplicates}")
        return self

    @property
    def settings(self) -> LineSettings:
        return LineSettings(baudrate=self.baudrate, extra_timeout_s=self.extra_timeout_s)


@dataclass(slots=True)
class PollResult:
    """One poll of one device."""

    device: str
    ok: bool
    readings: list[Reading] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # registers not mapped, record errors
    telegrams: int = 0
    requests: int = 0
    error: str | None = None


class MbusLinePoller:
    """Polls the devices of one line in turn (one lock per line)."""

    def __init__(
        self,
        config: MbusLineConfig,
        transport: Transport | None = None,
        clock: Clock = utc_now,
        profiles: dict[str, MbusProfile] | None = None,
    ) -> None:
        from meterhub.collectors.profiles import builtin_profiles, get_profile

        self.config = config
        self.transport = transport or SerialTransport(config.url, config.settings)
        self.master = MbusMaster(self.transport, retries=config.retries)
        self.clock = clock
        self.status = {d.name: DeviceStatus(d.name) for d in config.devices}
        self._profiles: dict[str, MbusProfile | None] = {}
        known = profiles if profiles is not None else builtin_profiles()
        self._candidates = [p for p in known.values() if isinstance(p, MbusProfile)]
        for device in config.devices:
            if device.profile is not None:
                profile = get_profile(device.profile)
                if not isinstance(profile, MbusProfile):
                    raise ValueError(
                        f"device {device.name!r}: profile {device.profile!r} is not an M-Bus profile"
                    )
                self._profiles[device.name] = profile

    def close(self) -> None:
        close = getattr(self.transport, "close", None)
        if close is not None:
            close()

    def poll_all(self) -> list[PollResult]:
        return [self.poll(device) for device in self.config.devices]

    async def poll_all_async(self) -> list[PollResult]:
        """``poll_all`` in a worker thread (pyserial is blocking), for an asyncio gateway."""
        return await asyncio.to_thread(self.poll_all)

    def poll(self, device: MbusDeviceConfig) -> PollResult:
        result = PollResult(device.name, ok=False)
        status = self.status[device.name]
        try:
            out = self._read(device)
        except MbusError as exc:
            return self._failed(device, status, result, exc.kind, str(exc))
        except OSError as exc:  # the port or the converter went away
            return self._failed(device, status, result, "connection", f"{self.config.url}: {exc}")
        now = self.clock()
        result.telegrams, result.requests = len(out.telegrams), out.requests
        status.last_requests = out.requests
        reported = next((t.application_error for t in out.telegrams if t.application_error), None)
        if reported is not None:  # the meter answered, but with an error instead of its data
            message = f"M-Bus {self._where(device)}: the meter reports {reported}"
            return self._failed(device, status, result, "application_error", message)
        self._note_identification(device, status, out)
        profile = self._profile_for(device, out)
        if profile is None:
            result.problems.append("no M-Bus profile accepts this meter; set 'profile' for the device")
        else:
            mapped = map_readings(out.telegrams, profile, now)
            result.readings, result.problems = mapped.readings, mapped.problems
        for telegram in out.telegrams:
            if telegram.unsupported:
                result.problems.append(telegram.unsupported)
            result.problems += [
                f"record at {e.offset}: {e.reason} ({e.raw.hex(' ')})" for e in telegram.errors
            ]
        if status.record_success(now):
            log.info("M-Bus device %s is back (%s)", device.name, self._where(device))
        result.ok = True
        return result

    def _read(self, device: MbusDeviceConfig) -> ReadOut:
        if device.address is not None:
            return self.master.read(device.address, reset=device.reset)
        return self.master.read_secondary(SelectionMask.parse(device.secondary or ""))

    def _profile_for(self, device: MbusDeviceConfig, out: ReadOut) -> MbusProfile | None:
        if device.name in self._profiles:
            return self._profiles[device.name]
        header = next((t.header for t in out.telegrams if t.header is not None), None)
        if header is None:
            return None
        return choose_profile(self._candidates, header.manufacturer, header.medium)

    def _note_identification(self, device: MbusDeviceConfig, status: DeviceStatus, out: ReadOut) -> None:
        address = out.secondary_address
        if address is None:
            return
        ident = f"{address.manufacturer}-{address.identification}"
        if status.serial is not None and status.serial != ident:
            log.warning(
                "M-Bus device %s reports identification %s (was %s): meter replaced?",
                device.name,
                ident,
                status.serial,
            )
        status.serial = ident

    def _failed(
        self, device: MbusDeviceConfig, status: DeviceStatus, result: PollResult, kind: str, message: str
    ) -> PollResult:
        result.error = f"{kind}: {message}"
        if status.record_failure(self.clock(), kind, message):
            log.warning("M-Bus device %s is down (%s): %s", device.name, self._where(device), message)
        return result

    def _where(self, device: MbusDeviceConfig) -> str:
        address = (
            f"primary {device.address}" if device.address is not None else f"secondary {device.secondary}"
        )
        return f"{self.config.url} {address}"
