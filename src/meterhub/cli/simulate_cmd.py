"""``meterhub simulate``: start simulated meters that speak the real protocols."""

from __future__ import annotations

import typer

app = typer.Typer(help="Simulated meters on real sockets and pseudo-terminals.", no_args_is_help=True)


@app.command("modbus")
def modbus(
    meters: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        ["eastron-sdm120:4"], "--meters", "-m", help="PROFILE[:COUNT], repeatable; unit ids in order"
    ),
    tcp: str | None = typer.Option(None, help="listen for Modbus/TCP on HOST:PORT (e.g. 127.0.0.1:5020)"),
    rtu_over_tcp: bool = typer.Option(False, help="with --tcp: RTU frames over TCP (a serial converter)"),
    rtu: bool = typer.Option(False, help="serve RTU on a pseudo-terminal; prints the tty to open"),
    baudrate: int = typer.Option(9600, help="RTU line speed the pty is paced at (0: no pacing)"),
    first_unit: int = typer.Option(1, help="unit id of the first meter"),
    speed: float = typer.Option(60.0, help="simulated seconds per wall-clock second"),
    seed: int = typer.Option(1, help="random seed: same seed, same consumption"),
    fault: list[str] = typer.Option(  # noqa: B008
        [],
        "--fault",
        "-f",
        help="UNIT:KIND[=VALUE]; KIND: no_answer, late=S, crc, short, exception=CODE, turnaround=S, "
        "rollover, "
        "drift=S_PER_DAY, replace=AFTER_S",
    ),
    reject_unmapped: bool = typer.Option(
        False,
        help="answer exception 02 for every unmapped address (default: the short reserved gaps "
        "between a profile's registers read as 0, any other address is exception 02)",
    ),
    duration: float = typer.Option(0.0, help="stop after this many seconds (0: run until Ctrl-C)"),
) -> None:
    """Serve simulated Modbus meters (many unit ids) over TCP or an RTU pseudo-terminal."""
    import asyncio
    import contextlib
    from datetime import UTC, datetime

    from meterhub.collectors.profiles import ProfileError
    from meterhub.simulators.modbus_fleet import apply_fault, build_meters, parse_fault
    from meterhub.simulators.modbus_meters import SimClock
    from meterhub.simulators.modbus_sim import ModbusSimulator

    if (tcp is None) == (not rtu):
        typer.echo("error: choose exactly one of --tcp HOST:PORT or --rtu", err=True)
        raise typer.Exit(2)
    host, port = "127.0.0.1", 0
    try:
        if tcp is not None:
            host_text, _, port_text = tcp.rpartition(":")
            if not port_text.isdigit() or int(port_text) > 65535:
                raise ValueError(f"--tcp {tcp!r}: expected HOST:PORT, e.g. 127.0.0.1:5020 (port 0: any free)")
            host, port = host_text or host, int(port_text)
        fleet = build_meters(meters, first_unit=first_unit, seed=seed, reject_unmapped=reject_unmapped)
        faults = [parse_fault(spec) for spec in fault]
    except (ProfileError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    async def serve() -> None:
        clock = SimClock(datetime.now(UTC), speed=speed)
        for spec in faults:
            apply_fault(fleet, spec, clock)
        sim = ModbusSimulator(fleet, clock)
        if tcp is not None:
            bound = await sim.start_tcp(host, port, rtu_framing=rtu_over_tcp)
            scheme = "rtu+tcp" if rtu_over_tcp else "tcp"
            typer.echo(f"listening on {scheme}://{host}:{bound}")
        else:
            path = await sim.start_rtu(baudrate or None)
            typer.echo(f"RTU line on {path} (open it as rtu://{path}?baudrate={baudrate or 9600})")
        for m in fleet:
            typer.echo(f"  unit {m.unit_id:>3}  {m.profile.id:<22} serial {m.serial}")
        try:
            if duration > 0:
                await asyncio.sleep(duration)
            else:
                await asyncio.Event().wait()
        finally:
            await sim.stop()
            typer.echo(f"served {sim.requests} requests")

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve())
    except OSError as exc:  # address in use, no permission for the port, no pseudo-terminals left
        typer.echo(f"error: cannot serve: {exc}", err=True)
        raise typer.Exit(1) from None
