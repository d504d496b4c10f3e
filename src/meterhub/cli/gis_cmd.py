"""``meterhub gis``: ГИС ЖКХ messages — export, identifiers back, debt requests, status, НСИ, sending.

meterhub gis export KIND [--period YYYY-MM] [--building B ...] --out DIR
meterhub gis import-ids FILE ...
meterhub gis debt-requests answer FILE --out DIR
meterhub gis status
meterhub gis nsi [FILE]
meterhub gis court-decisions FILE
meterhub gis send FILE ...
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(
    help="ГИС ЖКХ: messages validated against the operator's schemas (release 14.4.0.1).",
    no_args_is_help=True,
)
debt_app = typer.Typer(
    help="Debt requests (запросы о наличии задолженности) from social protection.", no_args_is_help=True
)
app.add_typer(debt_app, name="debt-requests")

_ORG_HELP = "the organisation's orgPPAGUID in ГИС ЖКХ (default: METERHUB_GIS_ORG_PPA_GUID)"


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _guid(value: str | None, setting: str) -> uuid.UUID:
    from meterhub.exchange.gis.transport import GisSettings

    if value is None:
        found = getattr(GisSettings(), setting)
        if found is None:
            raise _fail(f"no {setting.replace('_', ' ')}: pass it or set METERHUB_GIS_{setting.upper()}")
        return found
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a GUID") from None


@app.command("export")
def export_cmd(
    kind: str = typer.Argument(..., help="houses, accounts, devices, readings, payment-documents, payments"),
    out: Path = typer.Option(..., "--out", "-o", help="folder for the message files"),  # noqa: B008
    period: str | None = typer.Option(None, "--period", "-p", help="billing period YYYY-MM"),
    building: list[str] = typer.Option([], "--building", "-b", help="building id (repeatable)"),  # noqa: B008
    org: str | None = typer.Option(None, "--org-ppa-guid", help=_ORG_HELP),
) -> None:
    """Build the messages of KIND, validate them against the XSD and write them (status 'built')."""
    from meterhub.billing.rules.periods import BillingPeriod
    from meterhub.exchange.gis.exports import KINDS, export
    from meterhub.exchange.gis.model import MissingIdentifier
    from meterhub.exchange.gis.validation import GisSchemaError
    from meterhub.timeseries.database import connect, database_url

    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r}: one of {', '.join(KINDS)}")
    try:
        billing_period = BillingPeriod.parse(period) if period else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    org_guid = _guid(org, "org_ppa_guid")
    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            result = export(
                conn,
                kind,
                out,
                org_ppa_guid=org_guid,
                now=datetime.now(UTC),
                period=billing_period,
                buildings=building or None,
            )
        except (MissingIdentifier, GisSchemaError, ValueError) as exc:
            raise _fail(f"{kind}: {exc}") from None
    for reason in result.skipped:
        typer.echo(f"skipped: {reason}", err=True)
    for path in result.files:
        typer.echo(f"wrote {path}")
    typer.echo(
        f"{kind}: {result.items} objects in {len(result.files)} message(s), {len(result.skipped)} skipped"
    )


@app.command("import-ids")
def import_ids(
    files: list[Path] = typer.Argument(..., exists=True, dir_okay=False, help="getState XML or CSV/XLSX"),  # noqa: B008
) -> None:
    """Store the identifiers ГИС ЖКХ assigned: from its getState responses or the portal's spreadsheets."""
    from meterhub.exchange.gis.identifiers import IdentifierImportError, import_identifiers_file
    from meterhub.timeseries.database import connect, database_url

    failed = False
    with database_url(get_settings()) as url, connect(url) as conn:
        for path in files:
            try:
                result = import_identifiers_file(conn, path)
            except IdentifierImportError as exc:
                conn.rollback()
                typer.echo(f"{path.name}: {exc}", err=True)
                failed = True
                continue
            conn.commit()
            stored = ", ".join(f"{k} {n}" for k, n in sorted(result.stored.items())) or "nothing"
            typer.echo(f"{path.name}: stored {stored}")
            for line in result.errors:
                typer.echo(f"  refused by ГИС ЖКХ: {line}", err=True)
            for line in result.unmatched:
                typer.echo(f"  not matched: {line}", err=True)
    if failed:
        raise typer.Exit(1)


@debt_app.command("answer")
def debt_answer(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="exportDebtSubrequests result (XML)"),  # noqa: B008
    out: Path = typer.Option(..., "--out", "-o", help="folder for the importResponses message"),  # noqa: B008
    executor: str | None = typer.Option(
        None, "--executor-guid", help="employee GUID (METERHUB_GIS_EXECUTOR_GUID)"
    ),
    org: str | None = typer.Option(None, "--org-ppa-guid", help=_ORG_HELP),
) -> None:
    """Answer the debt subrequests of FILE from the ledger and the court decisions; write the response."""
    from meterhub.exchange.gis.debt_answers import answer_subrequests
    from meterhub.exchange.gis.exports import record_message, write_message
    from meterhub.exchange.gis.messages.debt_requests import DebtRequestFormatError
    from meterhub.timeseries.database import connect, database_url

    executor_guid = _guid(executor, "executor_guid")
    org_guid = _guid(org, "org_ppa_guid")
    now = datetime.now(UTC)
    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            result = answer_subrequests(
                conn, file.read_bytes(), file.name, executor_guid=executor_guid, answered_on=now.date()
            )
        except DebtRequestFormatError as exc:
            raise _fail(f"{file.name}: {exc}") from None
        for sub, answer, accounts in result.answers:
            verdict = "ДОЛГ ПОДТВЕРЖДЁН СУДОМ" if answer.has_debt else "нет долга, подтверждённого судом"
            typer.echo(
                f"{sub.request_number} {sub.address} {sub.address_details or ''}: {verdict} "
                f"(ЛС {', '.join(accounts)})"
            )
        for sub, reason in result.unmatched:
            typer.echo(f"{sub.request_number}: NOT ANSWERED, answer by hand: {reason}", err=True)
        for index, built in enumerate(result.messages, start=1):
            path = out / f"debt-responses-{file.stem}-{index}.xml"
            message_guid = write_message(built, path, org_guid, now, uuid.uuid4)
            record_message(conn, "debt-responses", built, message_guid, path, None, None)
            conn.execute(
                "UPDATE gis_debt_subrequests SET response_message_guid = %s WHERE subrequest_guid = "
                "ANY(%s::uuid[])",
                (message_guid, [i.local_key for i in built.items]),
            )
            typer.echo(f"wrote {path}")


@app.command("status")
def status(limit: int = typer.Option(30, "--limit", "-n", help="most recent messages")) -> None:
    """What was exported, when, its state and the identifiers that came back."""
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        rows = conn.execute(
            "SELECT created_at, kind, coalesce(period, ''), coalesce(building_id, ''), items, status, "
            "ids_received, jsonb_array_length(errors), file_name FROM gis_exports "
            "ORDER BY created_at DESC, export_id DESC LIMIT %s",
            (limit,),
        ).fetchall()
        counts = conn.execute(
            "SELECT kind, count(*) FROM gis_identifiers GROUP BY kind ORDER BY kind"
        ).fetchall()
        pending = conn.execute(
            "SELECT count(*) FROM gis_debt_subrequests WHERE answered_at IS NULL"
        ).fetchone()
    if not rows:
        typer.echo("nothing exported yet")
    for created, kind, period, building, items, state, ids, errors, name in rows:
        typer.echo(
            f"{created:%Y-%m-%d %H:%M} {kind:<18} {period:<7} {building:<10} {items:>5} objects  "
            f"{state:<8} ids {ids:>5}  errors {errors:>3}  {Path(name).name}"
        )
    typer.echo("identifiers: " + (", ".join(f"{k} {n}" for k, n in counts) or "none"))
    if pending and pending[0]:
        typer.echo(f"debt subrequests not answered: {pending[0]}")


@app.command("nsi")
def nsi(
    file: Path | None = typer.Argument(  # noqa: B008
        None, exists=True, dir_okay=False, help="mapping CSV, or an exportNsiItem result (XML)"
    ),
) -> None:
    """Show the НСИ mapping; replace rows of it from a CSV FILE (kind, local_value, registry, code, guid,
    name), or fill GUIDs from an exportNsiItem result (XML)."""
    from meterhub.exchange.gis.nsi import NsiImportError, import_nsi, import_nsi_item, nsi_rows
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        if file is not None and file.suffix.lower() == ".xml":
            try:
                typer.echo(f"{file.name}: {import_nsi_item(conn, file)} GUIDs filled")
            except NsiImportError as exc:
                raise _fail(f"{file.name}: {exc}") from None
        elif file is not None:
            try:
                typer.echo(f"{file.name}: {import_nsi(conn, file)} rows")
            except NsiImportError as exc:
                raise _fail(f"{file.name}: {exc}") from None
        for row in nsi_rows(conn):
            state = "" if row.guid or row.kind == "unit" else "  ← fill code and GUID"
            typer.echo(
                f"{row.kind:<9} {row.local_value:<12} НСИ {row.registry or '-':<4} {row.code or '-':<6} "
                f"{row.guid or '-':<36} {row.name}{state}"
            )


@app.command("court-decisions")
def court_decisions(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="court decisions CSV"),  # noqa: B008
) -> None:
    """Import court decisions on debts (until the claims stage records them itself)."""
    from meterhub.exchange.gis.debt_answers import CourtDecisionImportError, import_court_decisions
    from meterhub.timeseries.database import connect, database_url

    with database_url(get_settings()) as url, connect(url) as conn:
        try:
            typer.echo(f"{file.name}: {import_court_decisions(conn, file)} court decisions")
        except CourtDecisionImportError as exc:
            raise _fail(f"{file.name}: {exc}") from None


@app.command("send")
def send(
    files: list[Path] = typer.Argument(  # noqa: B008
        ..., exists=True, dir_okay=False, help="message files written by export"
    ),
) -> None:
    """Sign and send messages through the installation's transport (METERHUB_GIS_TRANSPORT)."""
    from meterhub.exchange.gis.sending import SendError, send_message
    from meterhub.exchange.gis.transport import GisSettings, TransportNotConfigured, load_transport
    from meterhub.timeseries.database import connect, database_url

    try:
        transport = load_transport(GisSettings().transport)
    except TransportNotConfigured as exc:
        raise _fail(str(exc)) from None
    with database_url(get_settings()) as url, connect(url) as conn:
        for path in files:
            try:
                ack = send_message(conn, transport, path)
            except SendError as exc:
                conn.commit()
                raise _fail(f"{path.name}: {exc}") from None
            conn.commit()
            typer.echo(f"{path.name}: sent, ГИС ЖКХ acknowledged as {ack}")
