"""``meterhub read``: poll one device once with a profile and print its values in meterhub units."""

from __future__ import annotations

import typer

app = typer.Typer(help="Read one device once and print decoded values (like mbpoll, in meterhub units).",
                  no_args_is_help=True)


@app.command("modbus")
def modbus(
    endpoint: str = typer.Argument(..., help="tcp://HOST:502, rtu:///dev/ttyUSB0?baudrate=9600, rtu+tcp://HOST:4001"),
    profile: str = typer.Option(..., "--profile", "-p", help="shipped profile id or a .toml file"),
    unit: int = typer.Option(1, "--unit", "-u", help="Modbus unit id (slave address)"),
    serial: str | None = typer.Option(None, help="meter serial (default: the profile's serial register)"),
    channel: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        [], "--channel", "-c", help="CHANNEL=SERIAL[:FACTOR] for multi-channel devices (pulse counters)"
    ),
    timeout: float = typer.Option(1.0, help="seconds to wait for each answer"),
    retries: int = typer.Option(1, help="retries per read"),
    one_register_per_request: bool = typer.Option(False, help="never merge registers into one read"),
) -> None:
    """Poll one Modbus device once and print every register of its profile."""
    from meterhub.collectors.modbus.device import ChannelConfig, ModbusDeviceConfig
    from meterhub.collectors.modbus.poller import read_once
    from meterhub.collectors.profiles import ProfileError, get_profile

    try:
        loaded = get_profile(profile)
        channels = {}
        for spec in channel:
            number, _, rest = spec.partition("=")
            channel_serial, _, factor = rest.partition(":")
            factor_value = float(factor) if factor else None
            channels[int(number)] = ChannelConfig(serial=channel_serial, factor=factor_value)
        config = ModbusDeviceConfig(
            name=f"unit {unit}", endpoint=endpoint, unit_id=unit, profile=profile, serial=serial,
            channels=channels, timeout=timeout, retries=retries,
            one_register_per_request=one_register_per_request or None,
        )
    except (ProfileError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    import asyncio

    result = asyncio.run(read_once(config, loaded))  # type: ignore[arg-type]
    if not result.ok:
        typer.echo(f"{endpoint} unit {unit}: {result.error} ({result.requests} requests)", err=True)
        raise typer.Exit(1)
    typer.echo(f"{loaded.profile.manufacturer} {loaded.profile.model} at {endpoint} unit {unit}: "
               f"{len(result.readings)} values in {result.requests} requests")
    for r in result.readings:
        typer.echo(f"  {r.meter_id:<28} {r.register:<22} {r.value:>16.6g} {r.unit}")
    for bad in result.undecodable:
        typer.echo(f"  channel {bad.channel} {bad.register}: {bad.words}: {bad.message}", err=True)
