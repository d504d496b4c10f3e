"""Per-device availability: last success, consecutive failures, last error. Pure bookkeeping.

A device is *online* after a successful poll and *offline* after a failed one. The poller logs the
two transitions (once when a device goes down, once when it returns), never every failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class DeviceStatus:
    """What the collector knows about one device's health."""

    name: str
    online: bool | None = None  # None until the first poll
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    total_failures: int = 0
    last_error: str | None = None
    # Modbus: timeout, crc, short_frame, invalid_frame, exception, connection, no_values;
    # M-Bus: timeout, frame, collision, no_selection, application_error, connection
    last_error_kind: str | None = None
    last_requests: int = 0  # reads on the wire during the last poll (retries included)
    unreadable: tuple[str, ...] = field(default=())  # what the device refuses (exception 02): serial, …
    undecodable: tuple[str, ...] = field(default=())  # registers whose words made no value (bad BCD)
    serial: str | None = None

    def record_success(self, now: datetime) -> bool:
        """Note a good poll; True when the device has just come back (was offline)."""
        returned = self.online is False
        self.online = True
        self.last_attempt = self.last_success = now
        self.consecutive_failures = 0
        return returned

    def record_failure(self, now: datetime, kind: str, message: str) -> bool:
        """Note a failed poll; True when the device has just gone down (was online or unknown)."""
        went_down = self.online is not False
        self.online = False
        self.last_attempt = now
        self.consecutive_failures += 1
        self.total_failures += 1
        self.last_error_kind = kind
        self.last_error = message
        return went_down
