"""Plain-SQL migrations, applied in order and recorded in ``schema_migrations``.

Files are named ``NNNN_description.sql``; a migration that differs between plain
PostgreSQL and TimescaleDB ships as ``NNNN_description.postgres.sql`` and
``NNNN_description.timescaledb.sql`` and the runner picks the one for the server's
*storage path*. Migrations come from several packages (timeseries, billing, …); the
version number is global across them. Applying is idempotent and serialised with an
advisory lock, so two processes starting at once do not race.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from dataclasses import dataclass
from enum import StrEnum

import psycopg

MIGRATION_LOCK_KEY = 0x6D65746572  # "meter"
_NAME_RE = re.compile(
    r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<variant>postgres|timescaledb))?\.sql$"
)

DEFAULT_SOURCES: tuple[str, ...] = ("meterhub.timeseries",)


class StoragePath(StrEnum):
    """How time series are stored: TimescaleDB hypertables or native monthly partitions."""

    TIMESCALEDB = "timescaledb"
    POSTGRES = "postgres"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    source: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(RuntimeError):
    pass


def timescaledb_available(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return row is not None


def detect_storage_path(conn: psycopg.Connection, prefer: str = "auto") -> StoragePath:
    """TimescaleDB when the extension is available (and not switched off), else plain PostgreSQL."""
    if prefer == "postgres":
        return StoragePath.POSTGRES
    available = timescaledb_available(conn)
    if prefer == "timescaledb" and not available:
        raise MigrationError(
            "METERHUB_STORAGE=timescaledb but the server has no timescaledb extension "
            "(pg_available_extensions); install it or use 'auto'"
        )
    return StoragePath.TIMESCALEDB if available else StoragePath.POSTGRES


def discover(sources: tuple[str, ...], path: StoragePath) -> list[Migration]:
    """All migrations of the given packages for the storage path, in version order."""
    found: dict[int, Migration] = {}
    for source in sources:
        folder = importlib.resources.files(source) / "migrations"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            m = _NAME_RE.match(entry.name)
            if not m:
                continue
            variant = m.group("variant")
            if variant is not None and variant != path.value:
                continue
            version = int(m.group("version"))
            if version in found:
                raise MigrationError(
                    f"migration version {version:04d} appears twice: {found[version].source} and {source}"
                )
            found[version] = Migration(version, m.group("name"), source, entry.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            name text NOT NULL,
            source text NOT NULL,
            storage_path text NOT NULL,
            checksum text NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def applied_migrations(conn: psycopg.Connection) -> dict[int, tuple[str, str, str]]:
    """version → (name, storage path, checksum) of what the database has."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return {}
    rows = conn.execute("SELECT version, name, storage_path, checksum FROM schema_migrations").fetchall()
    return {v: (n, p, c) for v, n, p, c in rows}


def recorded_storage_path(conn: psycopg.Connection) -> StoragePath | None:
    applied = applied_migrations(conn)
    if not applied:
        return None
    return StoragePath(applied[min(applied)][1])


def migrate(
    conn: psycopg.Connection,
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    *,
    prefer: str = "auto",
) -> list[Migration]:
    """Apply pending migrations, each in its own transaction; return those applied.

    The storage path is chosen once, on the first migration, and kept afterwards
    (a database created on plain PostgreSQL stays partitioned even if TimescaleDB
    is installed later).
    """
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        _ensure_table(conn)
        path = recorded_storage_path(conn) or detect_storage_path(conn, prefer)
        applied = applied_migrations(conn)
        done: list[Migration] = []
        for mig in discover(sources, path):
            if mig.version in applied:
                name, _, checksum = applied[mig.version]
                if checksum != mig.checksum:
                    raise MigrationError(
                        f"migration {mig.version:04d}_{mig.name} was changed after it was applied "
                        f"(recorded as {name}); add a new migration instead of editing an applied one"
                    )
                continue
            with conn.transaction():
                conn.execute(mig.sql)  # type: ignore[arg-type]  # trusted files shipped with meterhub
                conn.execute(
                    "INSERT INTO schema_migrations (version, name, source, storage_path, checksum) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    (mig.version, mig.name, mig.source, path.value, mig.checksum),
                )
            done.append(mig)
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
