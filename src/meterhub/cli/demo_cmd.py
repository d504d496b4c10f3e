"""``meterhub demo``: the whole pipeline on one machine (or, with --sample, a generated building)."""

from __future__ import annotations

import typer


def demo(
    buildings: int = typer.Option(3, help="buildings, one gateway each"),
    apartments: int = typer.Option(200, help="apartments in all buildings together"),
    speed: float = typer.Option(1440.0, help="simulated seconds per real second (1440: a day a minute)"),
    days_back: int = typer.Option(3, help="simulated time starts this many days ago (local midnight)"),
    duration: float = typer.Option(None, help="stop after this many real seconds (default: when caught up)"),
    sample: bool = typer.Option(False, "--sample", help="instead: load a generated building with faults"),
    days: int = typer.Option(31, help="--sample: days of 15-minute readings"),
    seed: int = typer.Option(7, help="--sample: random seed"),
    keep: bool = typer.Option(
        False, "--continue", help="go on from the previous demo's data instead of starting clean"
    ),
    remove: bool = typer.Option(
        False, "--remove-data", help="delete all demo data (its folder and databases) and exit"
    ),
) -> None:
    """Run simulators → gateways → MQTT → ingest → PostgreSQL and print what this run stored.

    Each run starts clean in a database of its own (an embedded PostgreSQL in
    METERHUB_DATA_DIR/demo, or <database>_demo next to METERHUB_DATABASE_URL's database), so the
    summary counts only that run; --continue keeps the previous run's data and goes on from where
    its simulated time ended; --remove-data deletes it all.
    """
    from meterhub.core.settings import get_settings

    settings = get_settings()
    if remove:
        from meterhub.cli.demo_database import remove_demo_data

        removed = remove_demo_data(settings)
        typer.echo("removed: " + ", ".join(removed) if removed else "no demo data to remove")
        return
    if sample:
        from meterhub.cli.demo_run import run_sample_demo

        run_sample_demo(settings, apartments=min(apartments, 80), days=days, seed=seed)
        return
    from meterhub.cli.demo_pipeline import run_pipeline_demo

    run_pipeline_demo(
        settings,
        buildings=buildings,
        apartments=apartments,
        speed=speed,
        days_back=days_back,
        duration=duration,
        keep=keep,
    )
