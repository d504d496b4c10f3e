"""Per-device health and the gateway's status document (``GatewayStatus`` of the MQTT v1 contract). Pure.

A device is online after a successful read and offline after a failed one; the board logs each
transition once (down, back), never every failure, and says when the status should be republished:
on a change of any device's online state, and periodically (``status_interval``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from meterhub import __version__
from meterhub.core.mqtt_contract import SCHEMA_VERSION, ClockSteppedBack, DeviceHealth, GatewayStatus

log = logging.getLogger(__name__)
MAX_ERROR = 500


@dataclass(slots=True)
class DeviceState:
    device: str
    meter_ids: set[str] = field(default_factory=set)
    online: bool | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None

    def as_contract(self) -> DeviceHealth:
        return DeviceHealth(
            device=self.device,
            meter_ids=sorted(self.meter_ids),
            online=bool(self.online),
            last_success=self.last_success,
            consecutive_failures=self.consecutive_failures,
            last_error=None if self.last_error is None else self.last_error[:MAX_ERROR],
        )


class HealthBoard:
    """Health of every device of one gateway."""

    def __init__(self, gateway_id: str, building_id: str, devices: list[str]) -> None:
        self.gateway_id = gateway_id
        self.building_id = building_id
        self.devices = {name: DeviceState(name) for name in devices}

    def success(self, device: str, now: datetime, meter_ids: set[str]) -> bool:
        """Record a good read; True when the device's online state changed."""
        state = self.devices[device]
        changed = state.online is not True or not meter_ids <= state.meter_ids
        if state.online is False:
            log.info("device %s is back after %d failed read(s)", device, state.consecutive_failures)
        state.online = True
        state.last_success = now
        state.consecutive_failures = 0
        state.meter_ids |= meter_ids
        return changed

    def failure(self, device: str, now: datetime, error: str) -> bool:
        """Record a failed read; True when the device's online state changed."""
        state = self.devices[device]
        changed = state.online is not False
        if changed:
            log.warning("device %s is down: %s", device, error)
        state.online = False
        state.consecutive_failures += 1
        state.last_error = error
        return changed

    def status(
        self,
        state: str,
        now: datetime,
        *,
        backlog: int = 0,
        oldest: datetime | None = None,
        dropped: int = 0,
        with_devices: bool = True,
        clock: ClockSteppedBack | None = None,
    ) -> GatewayStatus:
        return GatewayStatus(
            schema_version=SCHEMA_VERSION,
            gateway_id=self.gateway_id,
            building_id=self.building_id,
            state=state,  # type: ignore[arg-type]
            ts=now,
            software_version=__version__,
            devices=[d.as_contract() for d in self.devices.values()] if with_devices else [],
            outbox_backlog=backlog,
            outbox_oldest=oldest,
            outbox_dropped=dropped,
            clock_stepped_back=clock,
        )


def encode_status(status: GatewayStatus) -> bytes:
    """JSON of the status; ``clock_stepped_back`` is left out while it is None, so the document of a
    gateway whose clock never stepped back is one an ingest of an older version accepts."""
    exclude = {"clock_stepped_back"} if status.clock_stepped_back is None else None
    return status.model_dump_json(exclude_none=False, exclude=exclude).encode()
