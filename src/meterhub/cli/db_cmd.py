"""``meterhub db``: migrations and the state of the database."""

from __future__ import annotations

from pathlib import Path

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="Database: migrations and status.", no_args_is_help=True)


@app.command()
def migrate() -> None:
    """Apply pending plain-SQL migrations in order (harmless to run twice).

    A new database's time series go to TimescaleDB hypertables when the server has the extension, else
    to monthly partitions; METERHUB_STORAGE=timescaledb|postgres chooses explicitly.
    """
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.migrate import MigrationError
    from meterhub.timeseries.schema import migrate_database

    settings = get_settings()
    try:
        with database_url(settings) as url, connect(url) as conn:
            applied = migrate_database(conn, MIGRATION_SOURCES, prefer=settings.storage)
    except MigrationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if applied:
        for m in applied:
            typer.echo(f"applied {m.version:04d}_{m.name} ({m.source})")
    else:
        typer.echo("database is up to date")


@app.command()
def retention(
    dry_run: bool = typer.Option(False, "--dry-run", help="say what would be dropped, drop nothing"),
) -> None:
    """Drop raw readings older than METERHUB_READINGS_RETENTION_DAYS (whole chunks or monthly
    partitions), never those the hourly series or open billing periods still need. Run it daily."""
    from datetime import UTC, datetime

    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.maintenance import retain_readings, retention_lines

    settings = get_settings()
    if settings.readings_retention_days is None:
        typer.echo("METERHUB_READINGS_RETENTION_DAYS is not set: readings are kept for ever")
        return
    with database_url(settings) as url, connect(url) as conn:
        res = retain_readings(conn, settings.readings_retention_days, datetime.now(UTC), dry_run=dry_run)
    for line in retention_lines(res, dry_run=dry_run):
        typer.echo(line)


@app.command("vacuum-compressed")
def vacuum_compressed() -> None:
    """TimescaleDB: VACUUM the compressed chunks that were never vacuumed, which gives back the empty
    pages a compression leaves at their end (PostgreSQL 16+). Run it daily after the compression
    policy; nothing to do on plain PostgreSQL."""
    from meterhub.timeseries.compressed_vacuum import vacuum_compressed_chunks
    from meterhub.timeseries.database import connect, database_url

    settings = get_settings()
    with database_url(settings) as url, connect(url, autocommit=True) as conn:
        done = vacuum_compressed_chunks(conn)
    typer.echo(f"vacuumed {len(done)} compressed chunk(s)" if done else "no compressed chunk to vacuum")


@app.command()
def maintain(
    once: bool = typer.Option(False, "--once", help="run one cycle and exit (non-zero if it failed)"),
    interval: float = typer.Option(3600.0, "--interval", min=1.0, help="seconds between cycles"),
    heartbeat: Path | None = typer.Option(  # noqa: B008 - typer declares options in defaults
        None, "--heartbeat", help="file touched after every successful cycle (for a health check)"
    ),
) -> None:
    """Storage upkeep in a loop (compose's `maintenance` service): every cycle applies the readings'
    retention (when METERHUB_READINGS_RETENTION_DAYS is set) and vacuums newly compressed chunks
    (TimescaleDB). A failed cycle (database unavailable, a lock) is reported and retried at the next;
    SIGTERM or Ctrl-C stops it after the cycle in progress."""
    import signal
    import threading
    from datetime import UTC, datetime

    import psycopg

    from meterhub.timeseries.database import database_url
    from meterhub.timeseries.maintenance import maintain_storage

    settings = get_settings()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with database_url(settings) as url:
        while True:
            started = datetime.now(UTC)
            try:
                report = maintain_storage(url, settings.readings_retention_days, started)
            except (psycopg.Error, OSError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                typer.echo(f"{started.isoformat(timespec='seconds')} maintenance failed: {first}", err=True)
                if once:
                    raise typer.Exit(1) from None
            else:
                for line in report.lines():
                    typer.echo(f"{started.isoformat(timespec='seconds')} {line}")
                if heartbeat is not None:
                    heartbeat.touch()
                if once:
                    return
            if stop.wait(interval):
                typer.echo("maintenance stopped")
                return


@app.command("reencode-readings")
def reencode_readings() -> None:
    """TimescaleDB: rewrite readings stored as doubles before migration 0012 as scaled integers, chunk by
    chunk (decompress, rewrite, compress again); values read back the same, chunks get ~3x smaller."""
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.reencode import reencode_readings as run

    settings = get_settings()
    with database_url(settings) as url, connect(url) as conn:
        stats = run(conn, progress=lambda chunk, rows: typer.echo(f"{chunk}: {rows:,} rows as integers"))
    typer.echo(
        f"{stats.chunks} chunk(s) rewritten: {stats.rows:,} rows as integers, "
        f"{stats.kept_as_doubles:,} kept as doubles (no exact decimal form)"
    )


@app.command()
def status(
    exact: bool = typer.Option(False, "--exact", help="count rows with count(*) (slow on large tables)"),
) -> None:
    """Show the server, the storage path, migrations, rows, bytes per row, compression and its jobs, and
    the compressed chunks waiting for `db vacuum-compressed`."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.schema import database_status

    settings = get_settings()
    with database_url(settings) as url, connect(url) as conn:
        st = database_status(conn, MIGRATION_SOURCES, exact=exact)
    typer.echo(f"server:             {st.server_version}")
    where = f"external {_redact(url)}" if settings.database_url else f"embedded {url}"
    typer.echo(f"database:           {where}")
    typer.echo(f"timescaledb:        {'available' if st.timescaledb_available else 'not available'}")
    path = st.storage_path or "not migrated yet"
    typer.echo(f"storage path:       {path} (METERHUB_STORAGE={settings.storage})")
    typer.echo(f"  {st.storage_detail}")
    typer.echo(f"migrations:         {len(st.applied)} applied, {len(st.pending)} pending")
    for name in st.pending:
        typer.echo(f"  pending: {name}")
    kind = "exact" if st.rows_exact else "estimate"
    for table, rows in st.table_rows.items():
        typer.echo(f"{table + ':':<20}{rows:,} rows ({kind})")
    for s in st.storage:
        per_row = f", {s.bytes_per_row:.1f} B/row" if s.bytes_per_row else ""
        line = f"{s.table + ' storage:':<28}{s.bytes / 2**20:,.1f} MiB{per_row}"
        if s.compression_ratio:
            line += (
                f"; {s.compressed_chunks} of {s.chunks} chunks compressed "
                f"{s.compression_ratio:.1f}x ({s.bytes_before_compression / 2**20:,.1f} → "
                f"{s.bytes_after_compression / 2**20:,.1f} MiB)"
            )
        if s.partial_chunks:
            line += f"; {s.partial_chunks} partially (recompressed by the policy)"
        typer.echo(line)
        if s.vacuum_pending_chunks:
            typer.echo(
                f"  {s.vacuum_pending_chunks} compressed chunk(s) not vacuumed since their compression, "
                f"{s.vacuum_reclaimable_bytes / 2**20:,.2f} MiB of empty pages at their ends: "
                "run `meterhub db vacuum-compressed`"
            )
    if st.jobs:
        typer.echo("TimescaleDB policy jobs (TimescaleDB's own background jobs, not meterhub's):")
    overdue = {s.table: s.overdue_chunks for s in st.storage}
    for j in st.jobs:
        typer.echo(
            f"  job {j.job_id} {j.proc} on {j.table}: last run {j.last_status or 'not yet'}, "
            f"{j.total_failures} failures, last success {j.last_success or '-'}, next {j.next_start or '-'}"
        )
        if j.last_status == "Failed" and j.proc == "policy_compression" and not overdue.get(j.table):
            typer.echo(
                "    no chunk is overdue for compression, so the policy does its work: on PostgreSQL 15 "
                "TimescaleDB may record a run as failed ('cannot drop portal') after it committed"
            )
    for p in st.problems:
        typer.echo(f"PROBLEM: {p}")


def _redact(url: str) -> str:
    import re

    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
