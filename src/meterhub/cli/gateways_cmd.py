"""``meterhub gateways``: the gateway registry (id → building, broker password) and the broker files."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from meterhub.cli.common import migrated_connection

app = typer.Typer(
    help="The gateway registry: add, remove, list, passwd, broker-config.", no_args_is_help=True
)


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _password(generate: bool, from_stdin: bool) -> str | None:
    from meterhub.timeseries.broker_acl import generate_password

    if from_stdin:
        return sys.stdin.readline().rstrip("\n") or None
    return generate_password() if generate else None


@app.command()
def add(
    gateway_id: str = typer.Argument(..., help="the gateway's [gateway] id (its MQTT user name)"),
    building: str = typer.Option(..., "--building", "-b", help="the building it serves ([gateway] building)"),
    move: bool = typer.Option(False, "--move", help="re-bind a gateway registered to another building"),
    password: bool = typer.Option(
        True, "--password/--no-password", help="generate a broker password (printed once)"
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
    note: str = typer.Option("", help="free text, e.g. where the gateway hangs"),
) -> None:
    """Register a gateway for a building (re-running it is harmless; keeps the password)."""
    from meterhub.timeseries.broker_acl import mosquitto_hash
    from meterhub.timeseries.gateway_registry import GatewayRegistryError, list_gateways, register_gateway

    with migrated_connection() as conn:
        known = {b.gateway_id: b for b in list_gateways(conn, include_retired=True)}
        existing = known.get(gateway_id)
        # a new gateway gets a password; a known one keeps its own unless one is given
        plain = _password(password and (existing is None or not existing.has_password), password_stdin)
        try:
            binding = register_gateway(
                conn, gateway_id, building, password_hash=mosquitto_hash(plain) if plain else None,
                note=note, move=move,
            )  # fmt: skip
        except GatewayRegistryError as exc:
            _fail(str(exc))
        conn.commit()
    typer.echo(f"gateway {binding.gateway_id} registered to building {binding.building_id}")
    if plain and not password_stdin:
        typer.echo(
            f"MQTT user {binding.gateway_id}, password {plain}  (shown once: put it in the gateway's "
            "[mqtt] password_file)"
        )
    typer.echo("now rewrite the broker files: meterhub gateways broker-config --acl ... --passwd ...")


@app.command()
def passwd(
    gateway_id: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
) -> None:
    """Give a gateway a new broker password (generated and printed once unless --password-stdin)."""
    from meterhub.timeseries.broker_acl import mosquitto_hash
    from meterhub.timeseries.gateway_registry import GatewayRegistryError, set_password_hash

    plain = _password(True, password_stdin)
    assert plain is not None
    with migrated_connection() as conn:
        try:
            set_password_hash(conn, gateway_id, mosquitto_hash(plain))
        except GatewayRegistryError as exc:
            _fail(str(exc))
        conn.commit()
    if not password_stdin:
        typer.echo(f"MQTT user {gateway_id}, password {plain}  (shown once)")
    typer.echo("now rewrite the broker files: meterhub gateways broker-config --acl ... --passwd ...")


@app.command()
def remove(gateway_id: str = typer.Argument(...)) -> None:
    """Retire a gateway: the ingest refuses its messages, the broker files leave it out."""
    from meterhub.timeseries.gateway_registry import GatewayRegistryError, retire_gateway

    with migrated_connection() as conn:
        try:
            retire_gateway(conn, gateway_id)
        except GatewayRegistryError as exc:
            _fail(str(exc))
        conn.commit()
    typer.echo(f"gateway {gateway_id} retired; rewrite the broker files (meterhub gateways broker-config)")


@app.command("list")
def list_(all_: bool = typer.Option(False, "--all", help="also retired gateways")) -> None:
    """The registered gateways, by building."""
    from meterhub.timeseries.gateway_registry import list_gateways

    with migrated_connection() as conn:
        rows = list_gateways(conn, include_retired=all_)
    for b in rows:
        flags = ("retired " if b.retired else "") + ("password" if b.has_password else "no password")
        typer.echo(f"{b.building_id}\t{b.gateway_id}\t{flags}\t{b.note}")
    if not rows:
        typer.echo("no gateways registered (meterhub gateways add ID --building B)")


@app.command("broker-config")
def broker_config(
    acl: Annotated[Path, typer.Option("--acl", help="Mosquitto ACL file to write (acl_file)")],
    passwd: Annotated[
        Path,
        typer.Option(
            "--passwd",
            help="gateways' Mosquitto password file to write; lines of gateways registered "
            "without a password (made with mosquitto_passwd) are kept from it",
        ),
    ],
    ingest_user: str = typer.Option("ingest", help="the ingest's MQTT user name"),
) -> None:
    """Write the broker's ACL and the gateways' password file from the registry (then SIGHUP Mosquitto)."""
    from meterhub.timeseries.broker_acl import BrokerEntry, acl_text, parse_passwd, passwd_text
    from meterhub.timeseries.gateway_registry import list_gateways

    with migrated_connection() as conn:
        entries = [BrokerEntry(b.gateway_id, b.building_id, b.password_hash) for b in list_gateways(conn)]
    existing = parse_passwd(passwd.read_text()) if passwd.exists() else {}
    text, missing = passwd_text(entries, existing)
    _write_private(passwd, text)
    _write_private(acl, acl_text(entries, ingest_user=ingest_user))
    typer.echo(f"{len(entries)} gateway(s): wrote {acl} and {passwd}; reload Mosquitto (SIGHUP) to apply")
    for gateway_id in missing:
        typer.echo(
            f"gateway {gateway_id} has no password yet and cannot log in: meterhub gateways passwd "
            f"{gateway_id}",
            err=True,
        )


def _write_private(path: Path, text: str) -> None:
    """Replace a file atomically, readable by its owner only (it may hold password hashes)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)
