"""``meterhub serve``: the API and resident cabinet with uvicorn (embedded PostgreSQL when no URL is set)."""

from __future__ import annotations

import typer

from meterhub.core.settings import get_settings


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, help="TCP port"),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        help="reverse proxies whose X-Forwarded-For/-Proto are trusted (the client address feeds the "
        "login rate limit)",
    ),
    migrate: bool = typer.Option(True, help="apply pending database migrations before starting"),
) -> None:
    """Serve the HTTP API (/api/v1, docs at /api/v1/docs) and the cabinet pages."""
    import uvicorn

    from meterhub.api.app import create_app
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
        app = create_app(settings.model_copy(update={"database_url": url}))
        typer.echo(f"meterhub API on http://{host}:{port}/api/v1/docs ({settings.env.value} mode)")
        uvicorn.run(
            app,
            host=host,
            port=port,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level=settings.log_level.lower(),
        )
