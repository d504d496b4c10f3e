"""What several ``meterhub`` subcommands share: opening the configured database (migrated first) and
reading a ``YYYY-MM-DD`` option. Imports of the server stack stay inside the functions, so loading a
command module stays cheap."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    import psycopg

__all__ = ["day_option", "migrated_connection"]


@contextmanager
def migrated_connection() -> Iterator[psycopg.Connection]:
    """A connection to the configured database (``METERHUB_DATABASE_URL``, else the embedded one), with
    every pending migration applied first; closed on leaving."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.core.settings import get_settings
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.schema import migrate_database

    with database_url(get_settings()) as url, connect(url) as conn:
        migrate_database(conn, MIGRATION_SOURCES)
        yield conn


def day_option(text: str | None, option: str) -> date | None:
    """The day an option names (None when not given); a text that is no ISO date ends the command with
    exit code 2 and says which option was wrong."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        typer.echo(f"{option} {text!r}: give a date as YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
