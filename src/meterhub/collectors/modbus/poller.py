"""Polling: one coordinator per device, many devices at once.

:class:`DevicePoller` reads one device with its plan, retries with backoff, learns from exception-02
answers (re-planning around rejected addresses) and turns the words into ``Reading`` objects.
:class:`ModbusCollector` owns one :class:`~meterhub.collectors.modbus.link.ModbusLink` per endpoint
and polls every device concurrently (asyncio): devices on one serial line take turns on its bus
lock, separate lines and TCP servers run in parallel. A failure is a status, never an exception.

Timing: a device that is online gets ``1 + retries`` attempts per read (backoff between attempts,
the bus is free for other devices meanwhile); an offline device gets one attempt per poll, so a dead
device costs the others on its line at most its own timeout per poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from meterhub.collectors.modbus.device import (
    SERIAL_KEY,
    ModbusDeviceConfig,
    UndecodableValue,
    build_readings,
    profile_plan_state,
    profile_spans,
    serial_from_words,
)
from meterhub.collectors.modbus.errors import ModbusError, ModbusExceptionResponse
from meterhub.collectors.modbus.link import ModbusLink
from meterhub.collectors.modbus.planning import ReadRequest, after_rejection, plan_reads
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.modbus.status import DeviceStatus
from meterhub.core.readings import Reading

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ILLEGAL_DATA_ADDRESS = 2
_RETRYABLE_EXCEPTIONS = {5, 6}  # acknowledge, busy: try again


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class PollResult:
    """One poll of one device."""

    device: str
    ok: bool
    readings: list[Reading] = field(default_factory=list)
    undecodable: list[UndecodableValue] = field(default_factory=list)
    requests: int = 0
    error: str | None = None


class DevicePoller:
    """Reads one device: plan, transactions with retries, decoding, status."""

    def __init__(
        self, config: ModbusDeviceConfig, profile: ModbusProfile, link: ModbusLink, clock: Clock = utc_now
    ) -> None:
        has_main_registers = any(reg.channel == 0 for reg in profile.registers)
        if has_main_registers and config.serial is None and profile.serial is None:
            raise ValueError(
                f"device {config.name!r}: profile {profile.id!r} has no [serial] register; "
                "set 'serial' in the device configuration"
            )
        for channel in config.channels:
            if channel not in profile.channels:
                raise ValueError(
                    f"device {config.name!r}: channel {channel} is not in profile {profile.id!r} "
                    f"(channels: {profile.channels})"
                )
        self.config = config
        self.profile = profile
        self.link = link
        self.clock = clock
        self.plan_state = profile_plan_state(profile)
        self.status = DeviceStatus(config.name, serial=config.serial)
        self._options = config.plan_options(profile)
        self._read_serial = config.serial is None and profile.serial is not None
        self._spans = profile_spans(profile, read_serial=self._read_serial)

    async def poll(self) -> PollResult:
        """Poll the device once. Never raises for device or line trouble: see ``status``."""
        result = PollResult(self.config.name, ok=False)
        words: dict[Hashable, list[int]] = {}
        plan = plan_reads(self._spans, self._options, self.plan_state)
        queue = list(plan.requests)
        unreadable = list(plan.unreadable)
        try:
            while queue:
                request = queue.pop(0)
                try:
                    registers = await self._transact(request, result)
                except ModbusExceptionResponse as exc:
                    if exc.code != ILLEGAL_DATA_ADDRESS:
                        raise
                    self.plan_state = after_rejection(self.plan_state, request)
                    replanned = plan_reads(list(request.spans), self._options, self.plan_state)
                    queue[0:0] = replanned.requests
                    unreadable.extend(replanned.unreadable)
                    continue
                for span in request.spans:
                    offset = span.address - request.address
                    words[span.key] = registers[offset : offset + span.count]
        except ModbusError as exc:
            return self._failed(result, exc)
        now = self.clock()
        if SERIAL_KEY in words:
            self._note_serial(serial_from_words(self.profile, words[SERIAL_KEY]))
        result.readings, result.undecodable = build_readings(
            self.profile, self.config, words, now, self.status.serial
        )
        self.status.unreadable = tuple(sorted(str(s.key) for s in unreadable))
        self.status.undecodable = tuple(
            f"{u.register} (channel {u.channel}): {u.message}" for u in result.undecodable
        )
        self.status.last_requests = result.requests
        if self.status.record_success(now):
            log.info(
                "modbus device %s is back (%s unit %d)",
                self.config.name,
                self.link.endpoint,
                self.config.unit_id,
            )
        result.ok = True
        return result

    async def _transact(self, request: ReadRequest, result: PollResult) -> list[int]:
        attempts = 1 + (self.config.retries if self.status.online is not False else 0)
        delay = self.config.backoff
        for attempt in range(attempts):
            result.requests += 1
            try:
                return await self.link.read(
                    self.config.unit_id,
                    request.function,
                    request.address,
                    request.count,
                    timeout=self.config.timeout,
                    frame_delay=self.config.frame_delay(),
                )
            except ModbusExceptionResponse as exc:
                if exc.code not in _RETRYABLE_EXCEPTIONS or attempt + 1 == attempts:
                    raise
            except ModbusError:
                if attempt + 1 == attempts:
                    raise
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _failed(self, result: PollResult, exc: ModbusError) -> PollResult:
        message = f"{exc.kind}: {exc}"
        result.error = message
        self.status.last_requests = result.requests
        if self.status.record_failure(self.clock(), exc.kind, message):
            log.warning(
                "modbus device %s is down (%s unit %d): %s",
                self.config.name,
                self.link.endpoint,
                self.config.unit_id,
                message,
            )
        return result

    def _note_serial(self, serial: str) -> None:
        previous = self.status.serial
        if previous is not None and previous != serial:
            log.warning(
                "modbus device %s reports a new serial %s (was %s): meter replaced",
                self.config.name,
                serial,
                previous,
            )
        self.status.serial = serial


class ModbusCollector:
    """Polls many devices: one link (bus lock) per endpoint, all endpoints concurrently."""

    def __init__(
        self,
        devices: Sequence[ModbusDeviceConfig],
        profiles: Mapping[str, ModbusProfile] | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.links: dict[str, ModbusLink] = {}
        self.pollers: list[DevicePoller] = []
        for config in devices:
            endpoint = config.parsed_endpoint
            key = str(endpoint)
            link = self.links.get(key)
            if link is None:
                link = self.links[key] = ModbusLink(endpoint)
            self.pollers.append(DevicePoller(config, _resolve_profile(config, profiles), link, clock))

    async def poll_once(self) -> list[PollResult]:
        """Poll every device once; results in configuration order."""
        return list(await asyncio.gather(*(poller.poll() for poller in self.pollers)))

    def statuses(self) -> list[DeviceStatus]:
        return [poller.status for poller in self.pollers]

    def close(self) -> None:
        for link in self.links.values():
            link.close()


async def read_once(config: ModbusDeviceConfig, profile: ModbusProfile | None = None) -> PollResult:
    """Poll one device once (``meterhub read modbus``) and close the line."""
    profiles = {config.profile: profile} if profile is not None else None
    collector = ModbusCollector([config], profiles)
    try:
        (result,) = await collector.poll_once()
        return result
    finally:
        collector.close()


def _resolve_profile(
    config: ModbusDeviceConfig, profiles: Mapping[str, ModbusProfile] | None
) -> ModbusProfile:
    if profiles is not None and config.profile in profiles:
        return profiles[config.profile]
    from meterhub.collectors.profiles import get_profile

    profile = get_profile(config.profile)
    if not isinstance(profile, ModbusProfile):
        raise ValueError(f"device {config.name!r}: profile {config.profile!r} is not a Modbus profile")
    return profile
