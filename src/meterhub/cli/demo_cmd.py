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
) -> None:
    """Run simulators → gateways → MQTT → ingest → PostgreSQL and print what was stored."""
    from meterhub.core.settings import get_settings

    if sample:
        from meterhub.cli.demo_run import run_sample_demo

        run_sample_demo(apartments=min(apartments, 80), days=days, seed=seed)
        return
    from meterhub.cli.demo_pipeline import run_pipeline_demo

    run_pipeline_demo(
        get_settings(),
        buildings=buildings,
        apartments=apartments,
        speed=speed,
        days_back=days_back,
        duration=duration,
    )
