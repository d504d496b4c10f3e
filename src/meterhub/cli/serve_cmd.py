"""``meterhub serve``: the API and resident cabinet with uvicorn (embedded PostgreSQL when no URL is set)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import typer

from meterhub.core.settings import get_settings


def default_workers() -> int:
    """One server process per CPU core (at least 2): Python runs one request's code at a time per process."""
    return max(2, os.cpu_count() or 1)


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, help="TCP port"),
    forwarded_allow_ips: str = typer.Option(
        "",
        help="reverse proxies (addresses or CIDR, comma-separated) whose X-Forwarded-For/-Proto are "
        "trusted (the client address feeds the login rate limit); default METERHUB_TRUSTED_PROXIES, none",
    ),
    workers: int = typer.Option(
        0,
        min=0,
        help="server processes sharing the port (0: one per CPU core, at least 2); each has its own "
        "connection pool of METERHUB_DB_POOL_MAX_SIZE",
    ),
    migrate: bool = typer.Option(True, help="apply pending database migrations before starting"),
) -> None:
    """Serve the HTTP API (/api/v1, docs at /api/v1/docs) and the cabinet pages."""
    import uvicorn

    from meterhub.api.security_checks import production_problems
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.schema import migrate_database

    settings = get_settings()
    problems = production_problems(settings)
    if problems:
        typer.echo("refusing to start in production mode (METERHUB_ENV=production):", err=True)
        for p in problems:
            typer.echo(f"  - {p}", err=True)
        raise typer.Exit(2)
    with database_url(settings) as url:
        if migrate:
            with connect(url) as conn:
                for m in migrate_database(conn, MIGRATION_SOURCES):
                    typer.echo(f"applied {m.version:04d}_{m.name} ({m.source})")
        # The worker processes build the app from the environment (create_app() → get_settings()), so
        # what this command decided goes there: the database (the embedded one started above) and proxies.
        os.environ["METERHUB_DATABASE_URL"] = url
        os.environ["METERHUB_SERVER_STARTED_AT"] = datetime.now(UTC).isoformat()
        if forwarded_allow_ips.strip():
            proxies = [p.strip() for p in forwarded_allow_ips.split(",") if p.strip()]
            os.environ["METERHUB_TRUSTED_PROXIES"] = json.dumps(proxies)
        get_settings.cache_clear()
        n = workers or default_workers()
        typer.echo(
            f"meterhub API on http://{host}:{port}/api/v1/docs ({settings.env.value} mode, {n} processes)"
        )
        uvicorn.run(
            "meterhub.api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=n,
            proxy_headers=False,  # the app reads X-Forwarded-* from trusted proxies only (client_address)
            log_level=settings.log_level.lower(),
        )
