"""``meterhub read``: poll one device once with a profile and print its values in meterhub units."""

from __future__ import annotations

import math
from decimal import Decimal

import typer

app = typer.Typer(
    help="Read one device once and print decoded values (like mbpoll, in meterhub units).",
    no_args_is_help=True,
)


def _full_precision(value: float) -> str:
    """Every digit the register holds, never rounded for display, never in exponent notation."""
    if not math.isfinite(value):
        return repr(value)
    text = format(Decimal(repr(value)), "f")
    return text[:-2] if text.endswith(".0") else text


def _channels(specs: list[str]) -> dict:
    """``CHANNEL=SERIAL[:FACTOR]`` options; ValueError names the bad one."""
    from meterhub.collectors.modbus.device import ChannelConfig

    channels = {}
    for spec in specs:
        number, _, rest = spec.partition("=")
        channel_serial, _, factor = rest.partition(":")
        if not number.strip().isdigit() or not channel_serial:
            raise ValueError(f"--channel {spec!r}: expected CHANNEL=SERIAL[:FACTOR], e.g. 1=CW-0042:10")
        try:
            factor_value = float(factor) if factor else None
        except ValueError:
            raise ValueError(f"--channel {spec!r}: factor {factor!r} is not a number") from None
        channels[int(number)] = ChannelConfig(serial=channel_serial, factor=factor_value)
    return channels


@app.command("modbus")
def modbus(
    endpoint: str = typer.Argument(
        ..., help="tcp://HOST:502, rtu:///dev/ttyUSB0?baudrate=9600, rtu+tcp://HOST:4001"
    ),
    profile: str = typer.Option(..., "--profile", "-p", help="shipped profile id or a .toml file"),
    unit: int = typer.Option(1, "--unit", "-u", help="Modbus unit id (slave address)"),
    serial: str | None = typer.Option(None, help="meter serial (default: the profile's serial register)"),
    channel: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        [], "--channel", "-c", help="CHANNEL=SERIAL[:FACTOR] for multi-channel devices (pulse counters)"
    ),
    timeout: float = typer.Option(1.0, help="seconds to wait for each answer"),
    retries: int = typer.Option(1, help="retries per read"),
    one_register_per_request: bool = typer.Option(False, help="never merge registers into one read"),
    plan: bool = typer.Option(
        False, "--plan", help="print the read plan (the requests, as bytes) and exit; nothing is sent"
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="print the read plan and every transaction"),
) -> None:
    """Poll one Modbus device once and print every register of its profile."""
    from pydantic import ValidationError

    from meterhub.collectors.modbus.device import ModbusDeviceConfig, check_device
    from meterhub.collectors.modbus.plan_view import plan_lines, request_line
    from meterhub.collectors.modbus.poller import DevicePoller, read_once
    from meterhub.collectors.modbus.profile import ModbusProfile
    from meterhub.collectors.profiles import ProfileError, get_profile

    try:
        loaded = get_profile(profile)
        if not isinstance(loaded, ModbusProfile):
            raise ValueError(f"profile {profile!r} is not a Modbus profile")
        config = ModbusDeviceConfig(
            name=f"unit {unit}",
            endpoint=endpoint,
            unit_id=unit,
            profile=profile,
            serial=serial,
            channels=_channels(channel),
            timeout=timeout,
            retries=retries,
            one_register_per_request=one_register_per_request or None,
        )
        check_device(config, loaded)
    except ValidationError as exc:
        problems = "; ".join(
            (f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        )
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from None
    except (ProfileError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    if plan or verbose:
        from meterhub.collectors.modbus.link import ModbusLink  # builds no connection until a read

        planner = DevicePoller(config, loaded, ModbusLink(config.parsed_endpoint))
        for line in plan_lines(planner.plan(), unit, config.parsed_endpoint):
            typer.echo(line)
        if plan:
            return

    import asyncio
    import logging

    if not verbose:  # the poller's "down"/"back" log lines are for long runs; the result says it here
        logging.getLogger("meterhub.collectors.modbus.poller").setLevel(logging.ERROR)
    result = asyncio.run(read_once(config, loaded))
    if verbose:
        for t in result.transactions:
            typer.echo(
                f"  {request_line(t.request)} attempt {t.attempt + 1}: {t.outcome} "
                f"({t.seconds * 1000:.0f} ms)"
            )
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if not result.ok:
        typer.echo(f"{endpoint} unit {unit}: {result.error} ({result.requests} requests)", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"{loaded.profile.manufacturer} {loaded.profile.model} at {endpoint} unit {unit}: "
        f"{len(result.readings)} values in {result.requests} requests"
    )
    for r in result.readings:
        typer.echo(f"  {r.meter_id:<28} {r.register:<22} {_full_precision(r.value):>16} {r.unit}")
    for bad in result.undecodable:
        typer.echo(f"  channel {bad.channel} {bad.register}: {bad.words}: {bad.message}", err=True)
    if result.unreadable:
        refused = ", ".join(result.unreadable)
        typer.echo(f"not read (refused by the device, exception 02): {refused}", err=True)
