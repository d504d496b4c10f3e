"""Device readers: the gateway's view of the collectors — ``await reader.read()`` → readings or an error.

* Modbus (TCP, RTU, RTU over TCP): one :class:`~meterhub.collectors.modbus.poller.DevicePoller` per
  device; devices on one endpoint share one link and its bus lock (``ModbusCollector`` builds them).
* M-Bus (serial port or ``socket://`` converter): one
  :class:`~meterhub.collectors.mbus.poller.MbusLinePoller` per line; the blocking read-out runs in a
  worker thread and the line's lock serialises devices on the same line. A line whose port cannot
  be opened is retried on the next read.

A failed read is an outcome, never an exception, so one dead device never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from meterhub.core.readings import Reading
from meterhub.gateway.config import DeviceSection, GatewayConfig, MbusBus

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(slots=True)
class ReadOutcome:
    ok: bool
    readings: list[Reading] = field(default_factory=list)
    error: str | None = None


class DeviceReader(ABC):
    """One configured device."""

    def __init__(self, name: str, config: DeviceSection) -> None:
        self.name = name
        self.config = config

    @abstractmethod
    async def read(self) -> ReadOutcome:
        """Read the device once; bus trouble is an unsuccessful outcome, never an exception."""


class ModbusReader(DeviceReader):
    def __init__(self, name: str, config: DeviceSection, poller: object) -> None:
        super().__init__(name, config)
        self.poller = poller

    async def read(self) -> ReadOutcome:
        try:
            result = await self.poller.poll()  # type: ignore[attr-defined]
        except Exception as exc:  # the poller reports bus trouble as a result; anything else is a bug
            log.exception("modbus device %s: unexpected error", self.name)
            return ReadOutcome(False, error=f"internal error: {exc!r}")
        if not result.ok:
            return ReadOutcome(False, error=result.error or "read failed")
        if not result.readings:  # a device that delivered nothing is down, never "online"
            return ReadOutcome(False, error="no_values: the device answered, but no value could be read")
        return ReadOutcome(True, list(result.readings))


class MbusLine:
    """One M-Bus line: a :class:`MbusLinePoller` of the collectors, built on first use (a converter
    that is down at start-up is a device failure, not a start-up failure) and rebuilt after a
    connection error (a ``socket://`` converter that restarted needs a new socket)."""

    def __init__(self, bus: MbusBus, devices: list[tuple[str, DeviceSection]], clock: Clock) -> None:
        from meterhub.collectors.mbus.poller import MbusDeviceConfig, MbusLineConfig

        self.bus = bus
        self.clock = clock
        self.lock = threading.Lock()
        self.devices = {
            name: MbusDeviceConfig(
                name=name, address=device.address, secondary=device.secondary, profile=device.profile
            )
            for name, device in devices
        }
        self.config = MbusLineConfig(
            url=bus.port,
            baudrate=bus.baudrate,
            extra_timeout_s=bus.extra_timeout.total_seconds(),
            retries=bus.retries,
            devices=list(self.devices.values()),
        )
        self._poller = None

    def poll(self, name: str) -> ReadOutcome:
        """Read one device (blocking; called in a worker thread). Never raises for line trouble."""
        from meterhub.collectors.mbus.poller import MbusLinePoller

        with self.lock:
            if self._poller is None:
                try:
                    self._poller = MbusLinePoller(self.config, clock=self.clock)
                except OSError as exc:  # pyserial's SerialException is an OSError
                    return ReadOutcome(False, error=f"connection: cannot open {self.bus.port}: {exc}")
            result = self._poller.poll(self.devices[name])
            if not result.ok and (result.error or "").startswith("connection"):
                self.close_locked()
        if not result.ok:
            return ReadOutcome(False, error=result.error or "read failed")
        if not result.readings:
            return ReadOutcome(False, error="answered, but no register mapped: " + "; ".join(result.problems))
        return ReadOutcome(True, list(result.readings))

    def close_locked(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            try:
                poller.close()
            except Exception:
                log.debug("closing M-Bus line %s failed", self.bus.name, exc_info=True)

    def close(self) -> None:
        with self.lock:
            self.close_locked()


class MbusReader(DeviceReader):
    """One M-Bus meter; its line's lock keeps one read-out at a time on the wire."""

    def __init__(self, name: str, config: DeviceSection, line: MbusLine) -> None:
        super().__init__(name, config)
        self.line = line

    async def read(self) -> ReadOutcome:
        return await asyncio.to_thread(self.line.poll, self.name)


class Readers:
    """Every configured device's reader, and what must be closed at the end."""

    def __init__(self, readers: list[DeviceReader], closers: list[Callable[[], None]]) -> None:
        self.readers = readers
        self._closers = closers

    def close(self) -> None:
        for close in self._closers:
            try:
                close()
            except Exception:
                log.debug("closing a line failed", exc_info=True)


class DeviceSetupError(ValueError):
    """A device cannot be set up (unknown profile, profile of the wrong protocol, missing serial)."""


def build_readers(config: GatewayConfig, clock: Clock) -> Readers:
    """Readers for all devices of a configuration, in configuration order. Opens no port yet.

    Raises :class:`DeviceSetupError` naming the device for a profile problem.
    """
    from meterhub.collectors.mbus.profile import MbusProfile
    from meterhub.collectors.modbus.profile import ModbusProfile
    from meterhub.collectors.profiles import get_profile

    readers: list[DeviceReader | None] = [None] * len(config.devices)
    closers: list[Callable[[], None]] = []
    modbus: list[tuple[int, DeviceSection, object]] = []
    profiles: dict[str, ModbusProfile] = {}
    mbus: dict[str, list[tuple[int, DeviceSection]]] = {}
    for i, device in enumerate(config.devices):
        bus = config.bus(device.bus)
        where = f"devices[{i}] ({device.label})"
        try:
            if device.profile is not None:
                profile = get_profile(str(device.profile))
                expected = MbusProfile if isinstance(bus, MbusBus) else ModbusProfile
                if not isinstance(profile, expected):
                    kind = "an M-Bus" if expected is MbusProfile else "a Modbus"
                    raise ValueError(f"profile {device.profile!r} is not {kind} profile")
            if isinstance(bus, MbusBus):
                mbus.setdefault(bus.name, []).append((i, device))
            else:
                profiles[str(device.profile)] = profile  # type: ignore[assignment]
                modbus.append((i, device, _modbus_device_config(device, bus.endpoint())))
        except ValueError as exc:  # ProfileError and pydantic's ValidationError are ValueErrors
            raise DeviceSetupError(f"{where}: {exc}") from None
    for bus_name, members in mbus.items():
        bus = config.bus(bus_name)
        assert isinstance(bus, MbusBus)
        line = MbusLine(bus, [(d.label, d) for _, d in members], clock)
        closers.append(line.close)
        for i, device in members:
            readers[i] = MbusReader(device.label, device, line)
    if modbus:
        from meterhub.collectors.modbus.poller import ModbusCollector

        try:
            collector = ModbusCollector([cfg for _, _, cfg in modbus], profiles, clock=clock)  # type: ignore[misc]
        except ValueError as exc:
            raise DeviceSetupError(str(exc)) from None
        closers.append(collector.close)
        for (i, device, _), poller in zip(modbus, collector.pollers, strict=True):
            readers[i] = ModbusReader(device.label, device, poller)
    return Readers([r for r in readers if r is not None], closers)


def _modbus_device_config(device: DeviceSection, endpoint: str) -> object:
    from meterhub.collectors.modbus.device import ChannelConfig, ModbusDeviceConfig

    extra: dict[str, object] = {}
    if device.timeout is not None:
        extra["timeout"] = device.timeout.total_seconds()
    if device.retries is not None:
        extra["retries"] = device.retries
    return ModbusDeviceConfig(
        name=device.label,
        endpoint=endpoint,
        unit_id=int(device.address or 0),
        profile=str(device.profile),
        manufacturer=device.manufacturer,
        serial=device.serial,
        channels={n: ChannelConfig(**ch.model_dump()) for n, ch in device.channels.items()},
        **extra,
    )
