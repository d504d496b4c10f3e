"""``meterhub gateway --config FILE``: run the edge gateway of one building until SIGTERM/SIGINT.

Imports only the gateway (and through it the collectors and paho-mqtt), never the server stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def gateway(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="gateway configuration (TOML), see docs/gateway.md")
    ],
    check: Annotated[bool, typer.Option("--check", help="validate the configuration and exit")] = False,
) -> None:
    """Poll the building's meters, buffer readings in the outbox and publish them over MQTT."""
    from meterhub.gateway.config import GatewayConfigError, load_config
    from meterhub.gateway.devices import DeviceSetupError, build_readers

    try:
        loaded = load_config(config)
        build_readers(loaded, lambda: None).close()  # type: ignore[arg-type, return-value]
    except GatewayConfigError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    except DeviceSetupError as exc:
        typer.echo(f"{config}: {exc}", err=True)
        raise typer.Exit(2) from None
    if check:
        typer.echo(
            f"{config}: gateway {loaded.gateway.id} of building {loaded.gateway.building}, "
            f"{len(loaded.buses)} bus(es), {len(loaded.devices)} device(s), broker {loaded.mqtt.url}: OK"
        )
        return
    from meterhub.gateway.runner import GatewayStartError, run_gateway

    try:
        run_gateway(loaded)
    except GatewayStartError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
