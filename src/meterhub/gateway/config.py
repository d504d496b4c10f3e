"""The gateway configuration file (TOML), validated with pydantic; errors name the file and the field.

Example: ``docs/gateway.example.toml``; reference: ``docs/gateway.md``. Load with :func:`load_config`::

    config = load_config("/etc/meterhub/gateway.toml")

Durations are written ``"15m"``, ``"30s"``, ``"1h"`` or as seconds. Every poll interval must divide a
day, so the schedule's slots fall on the same wall-clock times every day (:00/:15/:30/:45 for 15 m)
and local midnight is always a slot (the day/month-start read billing needs).
"""

from __future__ import annotations

import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from meterhub.core.mqtt_contract import ID_PATTERN

DAY = timedelta(days=1)


def _duration(value: Any) -> timedelta:
    from meterhub.gateway.durations import parse_duration

    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class GatewayConfigError(ValueError):
    """The configuration file is missing, not TOML, or does not validate. One problem per line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GatewaySection(_Model):
    """``[gateway]``: who this gateway is and where the building is."""

    id: str = Field(pattern=ID_PATTERN, description="gateway id, unique within the building, e.g. gw-1")
    building: str = Field(pattern=ID_PATTERN, description="building id as registered centrally, e.g. B-001")
    timezone: str = Field(description="IANA time zone of the building, e.g. Europe/Moscow")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Moscow or Asia/Omsk "
                "(never a fixed offset)"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ScheduleSection(_Model):
    """``[schedule]``: default poll interval, jitter and the retry of billing (day/month-start) reads."""

    interval: Duration = Field(default=timedelta(minutes=15), description="default poll interval")
    max_jitter: Duration = Field(
        default=timedelta(seconds=30),
        description="each device reads at slot + a fixed offset in [0, max_jitter) derived from its name",
    )
    billing_retry: Duration = Field(
        default=timedelta(minutes=1),
        description="a failed day/month-start read is retried this often until the next slot",
    )
    read_on_start: bool = Field(default=True, description="read every device once at start-up")

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: timedelta) -> timedelta:
        return check_interval(value)

    @field_validator("billing_retry")
    @classmethod
    def _retry(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError('billing_retry must be positive, e.g. "1m"')
        return value


def check_interval(value: timedelta) -> timedelta:
    from meterhub.gateway.durations import format_duration

    micros = value // timedelta(microseconds=1)
    if value <= timedelta(0) or (DAY // timedelta(microseconds=1)) % micros:
        raise ValueError(
            f"poll interval {format_duration(value)} must divide a day (e.g. 1m, 5m, 15m, 30m, 1h, 2h, 1d) "
            "so slots fall "
            "on the same wall-clock times every day and local midnight is one of them"
        )
    return value


class ModbusTcpBus(_Model):
    """A Modbus/TCP server (a meter, or a gateway in front of an RS-485 line)."""

    name: str = Field(min_length=1, max_length=64)
    type: Literal["modbus-tcp", "modbus-rtu-over-tcp"]
    host: str = Field(min_length=1)
    port: int = Field(default=502, ge=1, le=65535)

    def endpoint(self) -> str:
        scheme = "tcp" if self.type == "modbus-tcp" else "rtu+tcp"
        return f"{scheme}://{self.host}:{self.port}"


class ModbusRtuBus(_Model):
    """A Modbus RTU line on a local serial port (RS-485 adapter)."""

    name: str = Field(min_length=1, max_length=64)
    type: Literal["modbus-rtu"]
    port: str = Field(min_length=1, description="serial device, e.g. /dev/ttyUSB0")
    baudrate: int = Field(default=9600, ge=300, le=921600)
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1

    def endpoint(self) -> str:
        return f"rtu://{self.port}?baudrate={self.baudrate}&parity={self.parity}&stopbits={self.stopbits}"


class MbusBus(_Model):
    """An M-Bus line: a level converter on a serial port, or a converter at ``socket://host:port``."""

    name: str = Field(min_length=1, max_length=64)
    type: Literal["mbus"]
    port: str = Field(min_length=1, description="/dev/ttyUSB1 or socket://10.0.0.7:10001")
    baudrate: int = Field(default=2400, ge=300, le=38400)
    extra_timeout: Duration = Field(
        default=timedelta(milliseconds=50), description="added to the EN 13757-2 answer window"
    )
    retries: int = Field(default=2, ge=0, le=10)


Bus = Annotated[ModbusTcpBus | ModbusRtuBus | MbusBus, Field(discriminator="type")]


class ChannelSection(_Model):
    """The meter behind one input of a multi-channel Modbus device (pulse counter)."""

    serial: str = Field(min_length=1)
    manufacturer: str | None = None
    factor: float | None = None
    offset: float | None = None


class DeviceSection(_Model):
    """``[[devices]]``: one meter (or multi-channel device) on a bus.

    Modbus: ``address`` is the unit id; ``serial`` is read from the device when its profile has a
    ``[serial]`` register, else it must be given. M-Bus: ``address`` is the primary address, or give
    ``secondary`` (8 or 16 hex characters) instead; the meter id comes from the telegram header.
    """

    name: str | None = Field(default=None, max_length=128, description="default: BUS/ADDRESS")
    bus: str
    address: int | None = Field(default=None, ge=0, le=250)
    secondary: str | None = Field(default=None, description="M-Bus secondary address")
    profile: str | None = Field(
        default=None, description="profile id or .toml path; M-Bus may leave it out (chosen by manufacturer)"
    )
    manufacturer: str | None = None
    serial: str | None = None
    interval: Duration | None = Field(default=None, description="overrides [schedule] interval")
    timeout: Duration | None = Field(default=None, description="Modbus answer timeout")
    retries: int | None = Field(default=None, ge=0, le=10)
    channels: dict[int, ChannelSection] = Field(default_factory=dict)

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: timedelta | None) -> timedelta | None:
        return None if value is None else check_interval(value)

    @model_validator(mode="after")
    def _addressed(self) -> DeviceSection:
        if (self.address is None) == (self.secondary is None):
            raise ValueError("give exactly one of 'address' (Modbus unit id / M-Bus primary) or 'secondary'")
        return self

    @property
    def label(self) -> str:
        return self.name or f"{self.bus}/{self.address if self.address is not None else self.secondary}"


class TlsSection(_Model):
    """``[mqtt.tls]``: CA to trust, optional client certificate, and (for tests only) no checks."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure: bool = Field(default=False, description="skip host name and chain checks (never in production)")

    @model_validator(mode="after")
    def _pair(self) -> TlsSection:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs both cert_file and key_file")
        return self


class MqttSection(_Model):
    """``[mqtt]``: the broker and how to log in."""

    url: str = Field(description="mqtt://host:1883 or mqtts://host:8883")
    username: str | None = None
    password: str | None = None
    password_file: Path | None = Field(default=None, description="file whose first line is the password")
    client_id: str | None = Field(default=None, description="default: meterhub-BUILDING-GATEWAY")
    protocol: Literal["auto", "5", "3.1.1"] = Field(
        default="auto", description="auto: MQTT 5, falling back to 3.1.1 when the broker refuses it"
    )
    keepalive: Duration = Field(default=timedelta(seconds=30))
    reconnect_min: Duration = Field(default=timedelta(seconds=1))
    reconnect_max: Duration = Field(default=timedelta(seconds=60))
    status_interval: Duration = Field(default=timedelta(minutes=5), description="republish status this often")
    max_inflight: int = Field(default=10, ge=1, le=100, description="batches awaiting PUBACK at once")
    commit_timeout: Duration = Field(
        default=timedelta(seconds=30),
        description="re-send a batch the ingest has not acknowledged as committed after this long "
        "(doubling while it stays unacknowledged, up to commit_timeout_max)",
    )
    commit_timeout_max: Duration = Field(
        default=timedelta(minutes=5), description="the longest wait between re-sends of one batch"
    )
    max_uncommitted: int = Field(
        default=20, ge=1, le=1000, description="batches published and awaiting the commit acknowledgement"
    )
    tls: TlsSection | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError(f"broker url {value!r} must look like mqtt://host:1883 or mqtts://host:8883")
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise ValueError(f"broker url {value!r}: the port is not a number in 1..65535") from None
        return value

    @model_validator(mode="after")
    def _credentials(self) -> MqttSection:
        if self.password is not None and self.password_file is not None:
            raise ValueError("give either password or password_file, not both")
        if (self.password is not None or self.password_file is not None) and self.username is None:
            raise ValueError("a password needs a username")
        return self

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def uses_tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts" or self.tls is not None

    def resolved_password(self) -> str | None:
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").splitlines()[0].strip()
        return self.password


class OutboxSection(_Model):
    """``[outbox]``: where unacknowledged readings wait, how many may wait, and how they are batched."""

    path: Path = Field(description="SQLite file, on persistent storage (not tmpfs)")
    max_readings: int = Field(default=5_000_000, ge=100, description="bound on stored readings")
    max_bytes: int | None = Field(default=None, ge=1_000_000, description="optional bound on the file size")
    warn_at: float = Field(default=0.8, gt=0, lt=1, description="warn when this fraction of a bound is used")
    batch_size: int = Field(default=500, ge=1, le=10_000, description="readings per MQTT message")
    batch_time: Duration = Field(
        default=timedelta(seconds=5),
        description="send a smaller batch once its oldest reading waited this long",
    )
    billing_reserve: float = Field(
        default=0.05,
        ge=0,
        le=0.5,
        description="share above the bound kept for day/month-start reads when interval reads are refused",
    )


class GatewayConfig(_Model):
    """The whole file."""

    gateway: GatewaySection
    schedule: ScheduleSection = Field(default_factory=ScheduleSection)
    mqtt: MqttSection
    outbox: OutboxSection
    buses: list[Bus] = Field(min_length=1)
    devices: list[DeviceSection] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> GatewayConfig:
        buses: dict[str, Any] = {}
        for bus in self.buses:
            if bus.name in buses:
                raise ValueError(f"two buses are named {bus.name!r}; bus names must be unique")
            buses[bus.name] = bus
        labels: set[str] = set()
        for i, device in enumerate(self.devices):
            where = f"devices[{i}] ({device.label})"
            bus = buses.get(device.bus)
            if bus is None:
                raise ValueError(f"{where}: bus {device.bus!r} is not defined; known: {', '.join(buses)}")
            if device.label in labels:
                raise ValueError(f"{where}: another device has the same name; set 'name' to tell them apart")
            labels.add(device.label)
            if isinstance(bus, MbusBus):
                extra = [
                    f
                    for f in ("channels", "serial", "manufacturer", "timeout", "retries")
                    if getattr(device, f)
                ]
                if extra:
                    raise ValueError(
                        f"{where}: {', '.join(extra)} not used on M-Bus (meters send manufacturer and "
                        "identification in their telegram; timeouts and retries are set on the bus)"
                    )
            else:
                if device.secondary is not None:
                    raise ValueError(f"{where}: 'secondary' is for M-Bus; a Modbus device needs 'address'")
                if device.profile is None:
                    raise ValueError(f"{where}: a Modbus device needs 'profile' (e.g. eastron-sdm120)")
                if device.address is not None and device.address > 247:
                    raise ValueError(f"{where}: Modbus unit id {device.address} is out of range 0..247")
        return self

    def bus(self, name: str) -> ModbusTcpBus | ModbusRtuBus | MbusBus:
        return next(b for b in self.buses if b.name == name)

    def interval_of(self, device: DeviceSection) -> timedelta:
        return device.interval or self.schedule.interval


def parse_config(text: str, filename: str = "<config>") -> GatewayConfig:
    """Validate TOML text; ``filename`` labels the error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GatewayConfigError(f"{filename}: not valid TOML: {exc}") from None
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        lines = [_describe(filename, data, err) for err in exc.errors()]
        raise GatewayConfigError("\n".join(lines)) from None


def load_config(path: str | Path) -> GatewayConfig:
    """Load and validate a configuration file. Relative outbox/TLS paths are relative to the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GatewayConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    config = parse_config(text, str(path))
    return _resolve_paths(config, path.parent)


def _resolve_paths(config: GatewayConfig, base: Path) -> GatewayConfig:
    def rel(p: Path | None) -> Path | None:
        return None if p is None or p.is_absolute() else base / p

    outbox = config.outbox.model_copy(update={"path": rel(config.outbox.path) or config.outbox.path})
    mqtt = config.mqtt
    updates: dict[str, Any] = {}
    if mqtt.password_file is not None and not mqtt.password_file.is_absolute():
        updates["password_file"] = base / mqtt.password_file
    if mqtt.tls is not None:
        tls_updates = {
            name: rel(getattr(mqtt.tls, name))
            for name in ("ca_file", "cert_file", "key_file")
            if rel(getattr(mqtt.tls, name)) is not None
        }
        updates["tls"] = mqtt.tls.model_copy(update=tls_updates)
    return config.model_copy(update={"outbox": outbox, "mqtt": mqtt.model_copy(update=updates)})


def _describe(filename: str, data: dict[str, Any], err: Any) -> str:
    """``gateway.toml: devices[2] (rs485-1/17): interval: …`` — the table, the entry and the field."""
    loc = [
        part
        for part in err.get("loc", ())
        if part not in ("modbus-tcp", "modbus-rtu", "mbus", "modbus-rtu-over-tcp")
    ]
    message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if err.get("type") == "missing":
        message = "missing (required)"
    elif err.get("type") == "union_tag_invalid":
        ctx = err.get("ctx", {})
        message = f"type {ctx.get('tag')!r} is not supported; use one of {ctx.get('expected_tags')}"
    elif err.get("type") == "extra_forbidden":
        message = "unknown field (check the spelling; see docs/gateway.md)"
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            label = ""
            if isinstance(entry, dict):
                addr = entry.get("address", entry.get("secondary", "?"))
                name = entry.get("name") or (f"{entry.get('bus')}/{addr}" if "bus" in entry else None)
                label = f" ({name})" if name else ""
            parts[-1] = f"{parts[-1]}[{part}]{label}" if parts else f"[{part}]"
            node = entry
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    where = ".".join(parts)
    return f"{filename}: {where + ': ' if where else ''}{message}"
