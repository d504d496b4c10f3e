"""``meterhub simulate mbus`` and ``meterhub read mbus``: the M-Bus commands.

Thin wrappers: the simulator lives in ``meterhub.simulators``, the master, decoder and profile
mapping in ``meterhub.collectors.mbus``; both are imported lazily.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

import typer

simulate_app = typer.Typer(help="Run simulated meters.", no_args_is_help=True)
read_app = typer.Typer(help="Poll one device once and print decoded values.", no_args_is_help=True)


def _parse_faults(specs: list[str]) -> list[tuple[int, str, float]]:
    out = []
    for spec in specs:
        try:
            address, rest = spec.split(":", 1)
            name, value = rest.split("=", 1)
            out.append((int(address), name.strip(), float(value)))
        except ValueError:
            raise typer.BadParameter(
                f"fault {spec!r} must look like ADDRESS:NAME=VALUE, e.g. 3:no_answer=5 or 1:clock_drift_s=600"
            ) from None
    return out


_FAULT_OPTION = typer.Option(
    None,
    help="ADDRESS:NAME=VALUE, repeatable; names: no_answer, late_answer, late_delay_s, bad_checksum, "
    "wrong_length, application_error, damaged_telegram (counts of answers), application_error_code, "
    "clock_drift_s, "
    "replace_after_s, rollover_after_s (simulated seconds)",
)


def simulate_mbus(
    transport: str = typer.Option("tcp", help="tcp (serial-to-Ethernet converter) or pty (serial port)"),
    host: str = typer.Option("127.0.0.1", help="TCP listen address"),
    port: int = typer.Option(10001, help="TCP port"),
    baudrate: int = typer.Option(2400, help="line speed to simulate [Bd]; 0 = no pacing (TCP only)"),
    heat: int = typer.Option(2, help="number of heat meters (primary addresses 1..)"),
    water: int = typer.Option(4, help="number of water meters (after the heat meters)"),
    first_id: int = typer.Option(10_000_001, help="identification number of the first meter"),
    multi_telegram: bool = typer.Option(True, help="heat meters answer in two telegrams"),
    speed: float = typer.Option(1.0, help="simulated seconds per real second"),
    duration: float = typer.Option(0.0, help="stop after this many seconds (0: run until Ctrl-C)"),
    fault: list[str] | None = _FAULT_OPTION,
) -> None:
    """Simulate an M-Bus line with heat and water meters until Ctrl-C."""
    from meterhub.simulators.mbus_meters import MeterFaults, demo_meters
    from meterhub.simulators.mbus_sim import MbusLine, PtyMbusServer, TcpMbusServer

    real_start = time.monotonic()
    sim_start = datetime.now(UTC)

    def clock() -> datetime:
        from datetime import timedelta

        return sim_start + timedelta(seconds=(time.monotonic() - real_start) * speed)

    meters = demo_meters(heat, water, sim_start, first_id, multi_telegram)
    for address, name, value in _parse_faults(fault or []):
        meter = next((m for m in meters if m.primary_address == address), None)
        if meter is None or name not in MeterFaults.__dataclass_fields__:
            raise typer.BadParameter(
                f"fault {address}:{name}: no meter at that address or unknown fault name"
            )
        setattr(meter.faults, name, type(getattr(meter.faults, name))(value))
    line = MbusLine(meters, clock=clock)
    if transport == "pty":
        server = PtyMbusServer(line, baudrate=baudrate or None, answer_delay_s=11 / max(baudrate, 300))
        where = f"serial device {server.device} ({baudrate} Bd 8E1)"
    elif transport == "tcp":
        server = TcpMbusServer(line, host, port, baudrate=baudrate or None)
        where = f"{server.url} (line paced at {baudrate or 'unlimited'} Bd)"
    else:
        raise typer.BadParameter("transport must be 'tcp' or 'pty'")
    typer.echo(f"M-Bus simulator on {where}")
    for m in meters:
        typer.echo(
            f"  primary {m.primary_address:3d}  secondary {m.identification} {m.manufacturer} "
            f"medium 0x{m.medium:02X}  {m.kind}{' (2 telegrams)' if m.multi_telegram else ''}"
        )
    typer.echo("Ctrl-C to stop." if not duration else f"running for {duration:g} s")
    deadline = time.monotonic() + duration if duration else float("inf")
    try:
        while time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        typer.echo(f"served {line.requests} requests, {line.collisions} collisions")


def read_mbus(
    port: str = typer.Argument(..., help="serial device (/dev/ttyUSB0) or socket://host:port"),
    address: int | None = typer.Option(None, "--address", "-a", help="primary address 0..250"),
    secondary: str | None = typer.Option(
        None,
        "--secondary",
        "-s",
        help="secondary address: 8 digits (F = wildcard) or 16 hex chars; with --scan: the subtree to scan",
    ),
    scan: bool = typer.Option(False, "--scan", help="find all meters by secondary-address scan"),
    profile: str | None = typer.Option(None, help="profile id or .toml path (default: by manufacturer)"),
    baudrate: int = typer.Option(2400, help="line speed [Bd]"),
    extra_timeout: float = typer.Option(0.05, help="added to the EN 13757-2 answer window [s]"),
    retries: int = typer.Option(2, help="retries per request"),
    raw: bool = typer.Option(False, help="print the frames in hex"),
) -> None:
    """Poll one M-Bus device once (or scan the line) and print records and meterhub readings."""
    from meterhub.collectors.mbus.addressing import SelectionMask
    from meterhub.collectors.mbus.master import MbusError, MbusMaster
    from meterhub.collectors.mbus.transport import LineSettings, SerialTransport

    if (address is not None) + (secondary is not None and not scan) + scan != 1:
        raise typer.BadParameter(
            "give exactly one of --address, --secondary or --scan (--scan may take --secondary as start mask)"
        )
    settings = LineSettings(baudrate=baudrate, extra_timeout_s=extra_timeout)
    try:
        transport = SerialTransport(port, settings)
    except Exception as exc:  # pyserial raises SerialException/OSError with the reason
        typer.echo(f"cannot open {port}: {exc}", err=True)
        raise typer.Exit(2) from None
    with transport:
        master = MbusMaster(transport, retries=retries)
        try:
            if scan:
                _print_scan(master, SelectionMask.parse(secondary) if secondary else None)
                return
            if address is not None:
                out = master.read(address)
            else:
                out = master.read_secondary(SelectionMask.parse(secondary or ""))
        except (MbusError, ValueError) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    _print_read_out(out, profile, raw)


def _print_scan(master, start) -> None:
    from meterhub.collectors.mbus.scan import scan_secondary

    started = time.monotonic()
    result = scan_secondary(master, start)
    typer.echo(
        f"{len(result.found)} meter(s), {result.selections} selections, {result.collisions} collisions, "
        f"{time.monotonic() - started:.1f} s"
    )
    for a in result.found:
        typer.echo(
            f"  {a}  id {a.identification}  {a.manufacturer}  version {a.version}  medium 0x{a.medium:02X}"
        )
    for problem in result.unresolved:
        typer.echo(f"  unresolved: {problem}")


def _print_read_out(out, profile_ref: str | None, raw: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from meterhub.collectors.mbus.mapping import choose_profile, map_readings
    from meterhub.collectors.mbus.records import DataRecord
    from meterhub.collectors.profiles import builtin_profiles, get_profile

    console = Console(width=None if sys.stdout.isatty() else 140)
    for n, telegram in enumerate(out.telegrams, 1):
        h = telegram.header
        title = f"telegram {n}/{len(out.telegrams)}"
        if h is not None and telegram.fixed is not None:
            title += (
                f": fixed data structure, id {h.identification}, medium {telegram.fixed.medium_text}, "
                f"access {h.access_number}, status {h.status.describe()}"
            )
        elif h is not None:
            title += (
                f": id {h.identification} {h.manufacturer} version {h.version} medium 0x{h.medium or 0:02X} "
                f"({h.medium_name}), access {h.access_number}, status {h.status.describe()}"
            )
        if telegram.application_error is not None:
            console.print(f"{title}: the meter reports {telegram.application_error}")
            continue
        if telegram.unsupported:
            console.print(f"{title}: {telegram.unsupported}")
            continue
        table = Table(title=title)
        for col in ("offset", "s/t/u", "function", "quantity", "value", "unit", "VIFE / error"):
            table.add_column(col)
        for r in telegram.records:
            if isinstance(r, DataRecord):
                vife = ", ".join(r.vife) + (f" [error: {r.error_text}]" if r.error_code else "")
                where = f"{r.storage}/{r.tariff}/{r.subunit}"
                row = (str(r.offset), where, _FUNC[r.function], r.quantity, _show(r.value), r.unit, vife)
                table.add_row(*row)
            else:
                table.add_row(str(r.offset), "", "ERROR", r.reason, r.raw.hex(" "), "", "")
        console.print(table)
        if telegram.damaged:
            console.print(f"DAMAGED telegram: {telegram.damaged}; its readings are marked BAD")
        if telegram.manufacturer_data:
            console.print(f"manufacturer data: {telegram.manufacturer_data.hex(' ')}")
    if raw:
        for frame in out.frames:
            console.print(frame.hex(" "))
    header = next((t.header for t in out.telegrams if t.header), None)
    if profile_ref:
        profile = get_profile(profile_ref)
    else:
        found = builtin_profiles().values()
        profile = choose_profile(
            list(found), header.manufacturer if header else None, header.medium if header else None
        )
    if profile is None:
        console.print("no shipped profile matches this meter; pass --profile ID or a .toml file")
        return
    mapped = map_readings(out.telegrams, profile, datetime.now(UTC))  # type: ignore[arg-type]
    table = Table(title=f"meterhub readings (profile {profile.id}, meter {mapped.meter_id})")
    for col in ("register", "value", "unit", "quality"):
        table.add_column(col)
    for reading in mapped.readings:
        table.add_row(reading.register, repr(reading.value), reading.unit, reading.quality.name)
    console.print(table)
    for problem in mapped.problems:
        console.print(f"not mapped: {problem}")


_FUNC = {"instantaneous": "inst", "maximum": "max", "minimum": "min", "value during error state": "error"}


def _show(value: object) -> str:
    """Decimals in plain notation (1339000, not 1.339E+6); bytes in hex."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, bytes):
        return value.hex(" ")
    return str(value)


simulate_app.command("mbus")(simulate_mbus)
read_app.command("mbus")(read_mbus)


def register(simulate: typer.Typer, read: typer.Typer) -> None:
    """Add the ``mbus`` commands to shared ``simulate`` and ``read`` groups."""
    simulate.command("mbus")(simulate_mbus)
    read.command("mbus")(read_mbus)
