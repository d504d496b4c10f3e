"""The ``meterhub`` command. It wires stages together and holds no logic of its own.

Each command imports its stage lazily, so ``meterhub gateway`` on an edge computer never
imports the server stack (psycopg, numpy, FastAPI).
"""

from __future__ import annotations

import logging
import warnings

import typer

from meterhub import __version__
from meterhub.cli import (
    benefits_cmd,
    billing_cmds,
    claims_cmd,
    dashboards_cmd,
    db_cmd,
    demo_cmd,
    gateway_cmd,
    gateways_cmd,
    gis_cmd,
    heating_cmd,
    ingest_cmd,
    mbus_cmds,
    money_cmds,
    notify_cmd,
    read_cmd,
    receipts_cmd,
    registry_cmd,
    serve_cmd,
    servicedesk_cmd,
    simulate_cmd,
    suppliers_cmd,
    users_cmd,
)

app = typer.Typer(
    name="meterhub",
    help="meterhub: meters → gateway → MQTT → time series → billing.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_cmd.app, name="db")
app.add_typer(simulate_cmd.app, name="simulate")
app.add_typer(read_cmd.app, name="read")
app.add_typer(dashboards_cmd.app, name="dashboards")
app.add_typer(receipts_cmd.app, name="receipts")
app.add_typer(users_cmd.app, name="users")
app.add_typer(gis_cmd.app, name="gis")
app.add_typer(gateways_cmd.app, name="gateways")
app.add_typer(registry_cmd.app, name="registry")
app.add_typer(claims_cmd.app, name="claims")
app.add_typer(suppliers_cmd.app, name="suppliers")
app.add_typer(benefits_cmd.app, name="benefits")
app.add_typer(servicedesk_cmd.app, name="servicedesk")
app.add_typer(notify_cmd.app, name="notify")
mbus_cmds.register(simulate_cmd.app, read_cmd.app)  # simulate mbus, read mbus
money_cmds.register(app)  # payments, export charges, debtors, absences, interruptions
app.command("demo")(demo_cmd.demo)
app.command("gateway")(gateway_cmd.gateway)
app.command("ingest")(ingest_cmd.ingest)
app.command("rollup")(ingest_cmd.rollup)
app.command("import")(billing_cmds.import_data)
app.command("reconcile")(billing_cmds.reconcile_migration)
app.command("close")(billing_cmds.close)
app.command("heating-correction")(heating_cmd.heating_correction)
app.command("serve")(serve_cmd.serve)


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="log debug messages"),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # pgserver logs every pg_ctl call at INFO; meterhub reports what matters itself.
    logging.getLogger("pgserver").setLevel(logging.DEBUG if verbose else logging.WARNING)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@app.command()
def version() -> None:
    """Print the meterhub version."""
    typer.echo(__version__)


def main() -> None:
    app()
