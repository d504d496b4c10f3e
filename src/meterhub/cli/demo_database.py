"""The demo's own database, fresh for every run unless asked to continue.

A demo never writes into the database meterhub is configured for. Without ``METERHUB_DATABASE_URL``
it starts an embedded PostgreSQL of its own in ``METERHUB_DATA_DIR/demo/pg``; with it, it creates a
database next to the configured one on the same server (``<name>_demo``, ``<name>_demo_sample``;
the role needs CREATEDB). Each run drops and recreates that database first, so its summary counts
only what the run itself stored; ``--continue`` keeps the previous run's data instead.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from meterhub.core.settings import Settings
from meterhub.timeseries.database import embedded_postgres, with_database

EMBEDDED_NAMES = {"pipeline": "meterhub_demo", "sample": "meterhub_demo_sample"}


@dataclass(frozen=True)
class DemoDatabase:
    url: str
    name: str
    where: str  # "embedded PostgreSQL in …" or "server …"
    fresh: bool  # dropped and recreated for this run


def demo_dir(settings: Settings) -> Path:
    """Everything a demo keeps on disk: the embedded server and the gateways' outboxes."""
    return settings.data_dir / "demo"


def demo_database_name(settings: Settings, kind: str) -> str:
    """The demo database's name: next to the configured one, or fixed on the embedded server."""
    if not settings.database_url:
        return EMBEDDED_NAMES[kind]
    configured = psycopg.conninfo.conninfo_to_dict(settings.database_url).get("dbname") or "postgres"
    return f"{configured}_demo" if kind == "pipeline" else f"{configured}_demo_sample"


@contextlib.contextmanager
def demo_database(settings: Settings, kind: str, *, keep: bool = False) -> Iterator[DemoDatabase]:
    """Yield the demo's database (``kind``: pipeline or sample), recreated unless ``keep``."""
    name = demo_database_name(settings, kind)
    if settings.database_url:
        server = settings.database_url
        host = psycopg.conninfo.conninfo_to_dict(server).get("host") or "local socket"
        yield _prepare(server, name, f"server {host}, database {name}", keep)
        return
    pg_dir = demo_dir(settings) / "pg"
    with embedded_postgres(pg_dir) as server_url:
        yield _prepare(server_url, name, f"embedded PostgreSQL in {pg_dir}, database {name}", keep)


def _prepare(server_url: str, name: str, where: str, keep: bool) -> DemoDatabase:
    with psycopg.connect(server_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        fresh = not (keep and exists)
        try:
            if fresh:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.errors.InsufficientPrivilege as exc:
            raise SystemExit(
                f"the demo needs its own database {name!r} on the configured server and may not create it "
                f"({exc.diag.message_primary}); grant CREATEDB to the role, or unset METERHUB_DATABASE_URL "
                "to let the demo start an embedded PostgreSQL"
            ) from exc
    return DemoDatabase(with_database(server_url, name), name, where, fresh)


def remove_outboxes(folder: Path) -> None:
    """Delete the gateways' SQLite outboxes of an earlier run (they would re-send its batches)."""
    if folder.exists():
        for path in folder.glob("*.outbox.sqlite3*"):
            path.unlink(missing_ok=True)


def remove_demo_data(settings: Settings) -> list[str]:
    """Delete every demo's data for good: the demo folder (embedded server, outboxes) and, on a
    configured server, the demo databases. Returns what was removed, for the user."""
    removed: list[str] = []
    if settings.database_url:
        with psycopg.connect(settings.database_url, autocommit=True) as admin:
            for kind in EMBEDDED_NAMES:
                name = demo_database_name(settings, kind)
                if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                    removed.append(f"database {name}")
    folder = demo_dir(settings)
    if folder.exists():
        shutil.rmtree(folder)
        removed.append(str(folder))
    return removed
