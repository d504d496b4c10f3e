"""``meterhub registry``: the passport office from the command line — keep the register for a building,
import a legacy card index, lists and the population register as XLSX (docs/passport-office.md)."""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path

import typer

from meterhub.cli.common import day_option, migrated_connection

app = typer.Typer(help="The register of residents (паспортная служба): keep, import, list, export.",
                  no_args_is_help=True)  # fmt: skip


def _actor():
    from meterhub.registry.audit import Actor

    return Actor(f"cli:{getpass.getuser()}", "cli")


@app.command()
def keep(
    building: str = typer.Argument(..., help="building id"),
    since: str = typer.Option(..., "--from", help="first day counted from the register (YYYY-MM-DD)"),
    authority: str = typer.Option("", "--authority", help="орган регистрационного учёта printed on forms"),
    absences: bool | None = typer.Option(  # None: keep the building's current setting
        None,
        "--absences/--no-absences",
        help="take temporary absences from the register: a stay registered in another premise (ПП 354 п. 93);"
        " without either flag the building keeps its setting (off for a new one)",
    ),
) -> None:
    """The УК keeps this building's register in meterhub from --from: the close counts residents from it."""
    first = day_option(since, "--from")
    with migrated_connection() as conn:
        if conn.execute("SELECT 1 FROM buildings WHERE building_id = %s", (building,)).fetchone() is None:
            typer.echo(f"building {building!r} is not in the buildings table; import it first", err=True)
            raise typer.Exit(1)
        (takes_absences,) = conn.execute(
            "INSERT INTO registry_buildings (building_id, kept_from, registration_authority, "
            "absences_from_register) VALUES (%(b)s, %(f)s, %(a)s, coalesce(%(abs)s, false)) "
            "ON CONFLICT (building_id) DO UPDATE SET kept_from = EXCLUDED.kept_from, "
            "registration_authority = EXCLUDED.registration_authority, "
            "absences_from_register = coalesce(%(abs)s, registry_buildings.absences_from_register) "
            "RETURNING absences_from_register",
            {"b": building, "f": first, "a": authority, "abs": absences},
        ).fetchone()
        conn.commit()
    typer.echo(
        f"building {building}: resident counts from the register from {first}"
        + ("; temporary absences from stays registered elsewhere" if takes_absences else "")
    )


@app.command("import")
def import_(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="card index, CSV or XLSX"),  # noqa: B008
) -> None:
    """Import a legacy card index (idempotent; rows with errors are reported and skipped)."""
    from meterhub.registry.legacy_import import import_card_index

    with migrated_connection() as conn:
        report = import_card_index(conn, _actor(), path)
        conn.commit()
    for error in report.errors:
        typer.echo(error, err=True)
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(1)


@app.command("list")
def list_(
    building: str = typer.Argument(...),
    out: Path = typer.Option(..., "--xlsx", help="where to write the list"),  # noqa: B008
    on: str | None = typer.Option(None, "--on", help="the day of the list (default today)"),
    age_min: int | None = typer.Option(None, "--age-min"),
    age_max: int | None = typer.Option(None, "--age-max"),
    registered_from: str | None = typer.Option(None, "--registered-from"),
    registered_to: str | None = typer.Option(None, "--registered-to"),
    ending_within: int | None = typer.Option(None, "--ending-within-days", help="stays ending soon"),
    minors: bool = typer.Option(False, "--minors-without-representative"),
) -> None:
    """A list by parameters as XLSX."""
    from meterhub.registry.lists import ListFilter, list_xlsx

    f = ListFilter(
        day_option(on, "--on") or date.today(), age_min, age_max,
        day_option(registered_from, "--registered-from"), day_option(registered_to, "--registered-to"),
        ending_within_days=ending_within,
        minors_without_representative=minors,
    )  # fmt: skip
    with migrated_connection() as conn:
        data, rows = list_xlsx(conn, _actor(), building, f)
        conn.commit()
    out.write_bytes(data)
    typer.echo(f"{len(rows)} rows → {out}")


@app.command()
def export(
    building: str = typer.Argument(...),
    out: Path = typer.Option(..., "--xlsx", help="where to write the population register"),  # noqa: B008
) -> None:
    """The electronic population register of a building as XLSX: persons, registrations, documents, owners."""
    from meterhub.registry.lists import population_register_xlsx

    with migrated_connection() as conn:
        data = population_register_xlsx(conn, _actor(), building, date.today())
        conn.commit()
    out.write_bytes(data)
    typer.echo(f"population register of {building} → {out}")
