"""``meterhub ingest`` and ``meterhub rollup``."""

from __future__ import annotations

import logging
import signal
import time

import typer

from meterhub.core.settings import get_settings

log = logging.getLogger(__name__)


def ingest(
    broker: str = typer.Option(None, help="MQTT broker URL (default: METERHUB_MQTT_URL)"),
    client_id: str = typer.Option(
        None, help="MQTT client id; keep it stable so unacked messages survive restarts"
    ),
    username: str = typer.Option(None, envvar="METERHUB_MQTT_USERNAME"),
    password: str = typer.Option(None, envvar="METERHUB_MQTT_PASSWORD"),
    shared: bool = typer.Option(True, help="use the MQTT 5 shared subscription $share/ingest/..."),
    max_batch: int = typer.Option(20_000, help="readings per database transaction"),
    max_delay: float = typer.Option(0.5, help="longest wait (s) for more messages before committing"),
    idle_gap: float = typer.Option(
        0.02, help="a pause (s) between messages that ends a group early (the broker's window is full)"
    ),
    rollup_every: float = typer.Option(30.0, help="seconds between hourly rollups (0: never)"),
    writers: int = typer.Option(
        2, min=1, help="database connections storing groups in turn (one commits while the next writes)"
    ),
    leave_group: bool = typer.Option(
        False,
        "--leave-group",
        help="at stop, leave the shared group for good (end the MQTT session); without it a stop keeps "
        "the session so the broker holds this worker's share until it returns",
    ),
    session_expiry: int = typer.Option(
        300, min=0, help="seconds the broker keeps a stopped worker's session and queue"
    ),
    reconnect_max: float = typer.Option(4.0, min=0.5, help="longest pause (s) between reconnect attempts"),
) -> None:
    """Subscribe to gateways' readings and status and store them; acknowledge to the broker and to
    each gateway (commit acknowledgements) only after the commit."""
    from meterhub.cli.wiring import MIGRATION_SOURCES
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.migrate import migrate
    from meterhub.timeseries.mqtt_ingest import IngestOptions, IngestService

    settings = get_settings()
    opts = IngestOptions(
        broker_url=broker or settings.mqtt_url,
        username=username,
        password=password,
        shared=None if shared else False,
        max_batch_readings=max_batch,
        max_delay=max_delay,
        idle_gap=idle_gap,
        rollup_every=rollup_every or None,
        writers=writers,
        leave_group=leave_group,
        session_expiry=session_expiry,
        reconnect_max=reconnect_max,
    )
    if client_id:
        opts.client_id = client_id
    with database_url(settings) as url:
        with connect(url) as conn:
            migrate(conn, MIGRATION_SOURCES, prefer=settings.storage)
        service = IngestService(url, opts)
        signal.signal(signal.SIGTERM, lambda *_: service.stop())
        signal.signal(signal.SIGINT, lambda *_: service.stop())
        stats = service.run()
    typer.echo(
        f"ingest stopped: {stats.messages} messages, {stats.readings_inserted} readings inserted, "
        f"{stats.duplicates} duplicates, {stats.rejected} rejected, {stats.dead_messages} dead messages "
        f"({stats.refused} refused by the gateway registry), {stats.commit_acks} commit acknowledgements, "
        f"{stats.conflicts_retried} transactions redone after a conflict"
    )


def rollup(
    watch: float = typer.Option(0.0, help="repeat every N seconds until interrupted (0: once)"),
    full: bool = typer.Option(False, help="rebuild every series from scratch instead of only dirty spans"),
) -> None:
    """Compute the hourly series for everything ingested since the last run (or rebuild all)."""
    from meterhub.timeseries.database import connect, database_url
    from meterhub.timeseries.rollup import process_dirty, rebuild

    settings = get_settings()
    with database_url(settings) as url, connect(url) as conn:
        while True:
            stats = rebuild(conn) if full else process_dirty(conn)
            conn.commit()
            lifted = (
                f"; {stats.lifted} transaction(s) with TimescaleDB's decompression limit lifted"
                if stats.lifted
                else ""
            )
            typer.echo(
                f"{stats.series} series, {stats.readings:,} readings, {stats.hours_written:,} hours, "
                f"{stats.flags} flagged readings in {stats.seconds:.1f} s{lifted}"
            )
            if not watch:
                break
            time.sleep(watch)
            full = False
