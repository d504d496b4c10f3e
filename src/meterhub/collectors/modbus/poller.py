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
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from meterhub.collectors.modbus.codec import DecodeError
from meterhub.collectors.modbus.device import (
    SERIAL_KEY,
    ModbusDeviceConfig,
    UndecodableValue,
    build_readings,
    check_device,
    profile_plan_state,
    profile_spans,
    serial_from_words,
    span_label,
)
from meterhub.collectors.modbus.errors import ModbusError, ModbusExceptionResponse, ModbusNoValues
from meterhub.collectors.modbus.link import ModbusLink
from meterhub.collectors.modbus.planning import Plan, ReadRequest, Span, after_rejection, plan_reads
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.modbus.status import DeviceStatus
from meterhub.core.readings import Reading

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ILLEGAL_DATA_ADDRESS = 2
_RETRYABLE_EXCEPTIONS = {5, 6}  # acknowledge, busy: try again


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Transaction:
    """One read on the wire during a poll and how it ended (``ok``, or the error) [s]."""

    request: ReadRequest
    attempt: int
    outcome: str
    seconds: float


@dataclass(slots=True)
class PollResult:
    """One poll of one device. ``transactions``: every read sent, retries and re-plans included."""

    device: str
    ok: bool
    readings: list[Reading] = field(default_factory=list)
    undecodable: list[UndecodableValue] = field(default_factory=list)
    requests: int = 0
    error: str | None = None
    transactions: list[Transaction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unreadable: tuple[str, ...] = ()  # what the device refused (exception 02), e.g. serial, voltage_v


class DevicePoller:
    """Reads one device: plan, transactions with retries, decoding, status."""

    def __init__(
        self, config: ModbusDeviceConfig, profile: ModbusProfile, link: ModbusLink, clock: Clock = utc_now
    ) -> None:
        check_device(config, profile)
        self.config = config
        self.profile = profile
        self.link = link
        self.clock = clock
        self.plan_state = profile_plan_state(profile)
        self.status = DeviceStatus(config.name, serial=config.serial)
        self._options = config.plan_options(profile)
        self._read_serial = config.serial is None and profile.serial is not None
        self._spans = profile_spans(profile, read_serial=self._read_serial)
        self._named_by_config = False

    def plan(self) -> Plan:
        """The reads the next poll sends, with what the poller has learnt so far."""
        return plan_reads(self._spans, self._options, self.plan_state)

    async def poll(self) -> PollResult:
        """Poll the device once. Never raises for device or line trouble: see ``status``.

        A register the device refuses (exception 02) is left out and the others are reported; a
        refused (or undecodable) serial register leaves the meter identified by the device's
        configured name. A poll that yields no value at all fails (``no_values``).
        """
        result = PollResult(self.config.name, ok=False)
        words: dict[Hashable, list[int]] = {}
        plan = self.plan()
        if not any(span.key != SERIAL_KEY for request in plan.requests for span in request.spans):
            # every register was refused before: the device may have been set up again or replaced
            self.plan_state = profile_plan_state(self.profile)
            plan = self.plan()
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
        serial_problem = "refused (exception 02)"
        if SERIAL_KEY in words:
            try:
                self._note_serial(serial_from_words(self.profile, words[SERIAL_KEY]))
            except DecodeError as exc:
                serial_problem = f"undecodable ({exc})"
        result.readings, result.undecodable = build_readings(
            self.profile, self.config, words, now, self._device_serial(serial_problem, result)
        )
        self.status.unreadable = result.unreadable = tuple(sorted(span_label(s.key) for s in unreadable))
        self.status.undecodable = tuple(
            f"{u.register} (channel {u.channel}): {u.message}" for u in result.undecodable
        )
        self.status.last_requests = result.requests
        if not result.readings:
            return self._failed(result, ModbusNoValues(_nothing_read(unreadable, result.undecodable)))
        if self.status.record_success(now):
            log.info(
                "modbus device %s is back (%s unit %d)",
                self.config.name,
                self.link.endpoint,
                self.config.unit_id,
            )
        result.ok = True
        return result

    def _device_serial(self, problem: str, result: PollResult) -> str | None:
        """The serial that names the device's own meter: configured or read — else the device name."""
        if self.status.serial is not None or not self._read_serial:
            return self.status.serial
        note = (
            f"serial register {problem}: the meter is identified by the device name "
            f"{self.config.name!r}; set its serial in the configuration to use the meter's own"
        )
        result.notes.append(note)
        if not self._named_by_config:
            self._named_by_config = True
            log.warning(
                "modbus device %s (%s unit %d): %s",
                self.config.name,
                self.link.endpoint,
                self.config.unit_id,
                note,
            )
        name = self.config.name
        return name if any(ch.isalnum() for ch in name) else f"unit{self.config.unit_id}"

    async def _transact(self, request: ReadRequest, result: PollResult) -> list[int]:
        attempts = 1 + (self.config.retries if self.status.online is not False else 0)
        delay = self.config.backoff
        for attempt in range(attempts):
            result.requests += 1
            started = time.monotonic()
            try:
                registers = await self.link.read(
                    self.config.unit_id,
                    request.function,
                    request.address,
                    request.count,
                    timeout=self.config.timeout,
                    frame_delay=self.config.frame_delay(),
                )
            except ModbusExceptionResponse as exc:
                result.transactions.append(_transaction(request, attempt, f"exception: {exc}", started))
                if exc.code not in _RETRYABLE_EXCEPTIONS or attempt + 1 == attempts:
                    raise
            except ModbusError as exc:
                result.transactions.append(_transaction(request, attempt, f"{exc.kind}: {exc}", started))
                if attempt + 1 == attempts:
                    raise
            else:
                result.transactions.append(_transaction(request, attempt, "ok", started))
                return registers
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


def _transaction(request: ReadRequest, attempt: int, outcome: str, started: float) -> Transaction:
    return Transaction(request, attempt, outcome, time.monotonic() - started)


def _nothing_read(unreadable: Sequence[Span], undecodable: Sequence[UndecodableValue]) -> str:
    """Why a device that answered gave no value at all, naming the registers."""
    parts = []
    refused = sorted(span_label(s.key) for s in unreadable if s.key != SERIAL_KEY)
    if refused:
        parts.append(f"refused (exception 02 illegal data address): {', '.join(refused)}")
    if undecodable:
        parts.append("undecodable: " + ", ".join(f"{u.register} ({u.message})" for u in undecodable))
    detail = "; ".join(parts) or "no register was read"
    return f"the device answered, but no value could be read — {detail}; check the unit id and the profile"


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
