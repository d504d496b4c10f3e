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


def timescaledb_created(conn: psycopg.Connection) -> bool:
    """The extension exists in this database (CREATE EXTENSION was run)."""
    return conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone() is not None


PRELOAD_HELP = (
    "add shared_preload_libraries = 'timescaledb' to postgresql.conf (keep libraries already listed, "
    "comma-separated) and restart PostgreSQL; or set METERHUB_STORAGE=postgres to store time series in "
    "plain PostgreSQL partitions instead"
)


def detect_storage_path(conn: psycopg.Connection, prefer: str = "auto") -> StoragePath:
    """The storage path for a new database: ``prefer`` (``METERHUB_STORAGE``) is ``auto``
    (TimescaleDB when the server has the extension), ``timescaledb`` or ``postgres``."""
    if prefer not in ("auto", "timescaledb", "postgres"):
        raise MigrationError(f"METERHUB_STORAGE={prefer!r}: use auto, timescaledb or postgres")
    if prefer == "postgres":
        return StoragePath.POSTGRES
    available = timescaledb_available(conn)
    if prefer == "timescaledb" and not available:
        raise MigrationError(
            "METERHUB_STORAGE=timescaledb but the server has no timescaledb extension "
            "(pg_available_extensions): install TimescaleDB on the server, or use auto or postgres"
        )
    return StoragePath.TIMESCALEDB if available else StoragePath.POSTGRES


def create_timescaledb_extension(conn: psycopg.Connection) -> None:
    """``CREATE EXTENSION timescaledb`` on its own, before any migration is recorded, with an error
    that says what to do when the server has the extension but did not preload it (TimescaleDB then
    ends the session with a FATAL error)."""
    if timescaledb_created(conn):
        return
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    except psycopg.Error as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MigrationError(
            f"the server has TimescaleDB but could not create the extension ({detail}). "
            f"Nothing was migrated. If TimescaleDB is not preloaded: {PRELOAD_HELP}"
        ) from exc


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


def _variant_versions(sources: tuple[str, ...]) -> set[int]:
    """Versions that ship a plain-PostgreSQL and a TimescaleDB variant (where the paths part)."""
    pg = {(m.version, m.checksum) for m in discover(sources, StoragePath.POSTGRES)}
    ts = {(m.version, m.checksum) for m in discover(sources, StoragePath.TIMESCALEDB)}
    return {v for v, _ in pg ^ ts}


def choose_storage_path(
    conn: psycopg.Connection, sources: tuple[str, ...] = DEFAULT_SOURCES, prefer: str = "auto"
) -> StoragePath:
    """The database's storage path: the recorded one once a path-specific migration is applied;
    before that (a new database, or one whose first path-specific migration failed) it is chosen
    from ``prefer`` and the server."""
    applied = applied_migrations(conn)
    recorded = recorded_storage_path(conn)
    if recorded is not None and set(applied) & _variant_versions(sources):
        if prefer not in ("auto", recorded.value):
            raise MigrationError(
                f"METERHUB_STORAGE={prefer} but this database stores time series on the {recorded.value} "
                "path; a database keeps the path it was created with (migrate into a new database to change)"
            )
        return recorded
    return detect_storage_path(conn, prefer)


def migrate(
    conn: psycopg.Connection,
    sources: tuple[str, ...] = DEFAULT_SOURCES,
    *,
    prefer: str = "auto",
    until: int | None = None,
) -> list[Migration]:
    """Apply pending migrations, each in its own transaction; return those applied. ``until``: only
    those numbered up to it (a database as an older version left it, for upgrade tests).

    The storage path is chosen on the first path-specific migration and kept afterwards (a database
    created on plain PostgreSQL stays partitioned even if TimescaleDB is installed later). On the
    TimescaleDB path the extension is created first, so a server that has TimescaleDB but did not
    preload it is refused before anything is recorded.
    """
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        _ensure_table(conn)
        path = choose_storage_path(conn, sources, prefer)
        if path is StoragePath.TIMESCALEDB:
            create_timescaledb_extension(conn)
        applied = applied_migrations(conn)
        if applied and recorded_storage_path(conn) is not path:
            # nothing path-specific was applied yet: the common migrations belong to either path
            conn.execute("UPDATE schema_migrations SET storage_path = %s", (path.value,))
        done: list[Migration] = []
        for mig in discover(sources, path):
            if until is not None and mig.version > until:
                break
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
        if not conn.closed and not conn.broken:
            conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
