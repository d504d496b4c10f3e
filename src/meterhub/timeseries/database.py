"""Where the database is: an external server from settings, or an embedded PostgreSQL.

Without ``METERHUB_DATABASE_URL`` meterhub starts a real PostgreSQL 16 from the
``pgserver`` wheel in ``METERHUB_DATA_DIR/pg`` (Unix socket only, no TCP port) and
stops it when the last meterhub process using it exits.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg

from meterhub.core.settings import Settings

log = logging.getLogger(__name__)


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or join) the embedded PostgreSQL in ``data_dir`` and yield its URL."""
    import pgserver  # imported lazily: only the embedded path needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    log.info("embedded PostgreSQL running in %s", data_dir)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextlib.contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """Yield the URL of the database meterhub should use, starting the embedded one if needed."""
    if settings.database_url:
        yield settings.database_url
        return
    with embedded_postgres(settings.data_dir / "pg") as url:
        yield url


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection:
    """A psycopg 3 connection with UTC session time zone (all storage is UTC)."""
    conn = psycopg.connect(url, autocommit=autocommit, options="-c timezone=UTC")
    return conn


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in info.items() if v is not None})
