"""``meterhub db``: migrations and the state of the database."""

from __future__ import annotations

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="Database: migrations and status.", no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Apply pending plain-SQL migrations in order (harmless to run twice)."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.schema import migrate_database

    settings = get_settings()
    with database_url(settings) as url, connect(url) as conn:
        applied = migrate_database(conn, MIGRATION_SOURCES)
    if applied:
        for m in applied:
            typer.echo(f"applied {m.version:04d}_{m.name} ({m.source})")
    else:
        typer.echo("database is up to date")


@app.command()
def status() -> None:
    """Show the server, the storage path (TimescaleDB or partitions), migrations and table sizes."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.schema import database_status

    settings = get_settings()
    with database_url(settings) as url, connect(url) as conn:
        st = database_status(conn, MIGRATION_SOURCES)
    typer.echo(f"server:             {st.server_version}")
    where = f"external {_redact(url)}" if settings.database_url else f"embedded {url}"
    typer.echo(f"database:           {where}")
    typer.echo(f"timescaledb:        {'available' if st.timescaledb_available else 'not available'}")
    typer.echo(f"storage path:       {st.storage_path or 'not migrated yet'}")
    typer.echo(f"  {st.storage_detail}")
    typer.echo(f"migrations:         {len(st.applied)} applied, {len(st.pending)} pending")
    for name in st.pending:
        typer.echo(f"  pending: {name}")
    for table, rows in st.table_rows.items():
        typer.echo(f"{table + ':':<20}{rows:,} rows (estimate)")


def _redact(url: str) -> str:
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
