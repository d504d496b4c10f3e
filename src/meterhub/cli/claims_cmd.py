"""``meterhub claims``: the legal department from the command line — court districts and the claimant,
instalment agreements, debtors and statements, pre-trial claims and court-order applications (PDF, in
batches), the case's steps, documents, money under a writ, reports (docs/claims.md)."""

from __future__ import annotations

import getpass
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from meterhub.cli.common import day_option, migrated_connection

if TYPE_CHECKING:
    import psycopg

app = typer.Typer(help="Claims and court orders (судебно-претензионная работа).", no_args_is_help=True)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@contextmanager
def _connection():
    from meterhub.cli.wiring import plug_court_decisions

    plug_court_decisions()
    with migrated_connection() as conn:
        yield conn


def _kopecks(text: str, option: str) -> int:
    try:
        amount = Decimal(text.replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        amount = Decimal(-1)
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        typer.echo(f"{option} {text!r}: give a positive amount in rubles, e.g. 1234.56", err=True)
        raise typer.Exit(2)
    return int(amount * 100)


def _rub(kopecks: int) -> str:
    return f"{Decimal(kopecks).scaleb(-2):,.2f}".replace(",", " ")


def _fail(exc: Exception) -> None:
    typer.echo(str(exc), err=True)
    raise typer.Exit(1) from None


@app.command()
def courts(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV of court districts"),  # noqa: B008
) -> None:
    """Import the court district of each building (building_id, court_name, court_address, district)."""
    from meterhub.claims.court_districts import CourtDistrictImportError, import_court_districts

    with _connection() as conn:
        try:
            count = import_court_districts(conn, file.read_bytes(), file.name)
        except CourtDistrictImportError as exc:
            _fail(exc)
        conn.commit()
    typer.echo(f"{file.name}: {count} buildings")


@app.command()
def claimant(
    name: str = typer.Option(..., "--name"),
    inn: str = typer.Option("", "--inn"),
    ogrn: str = typer.Option("", "--ogrn"),
    address: str = typer.Option("", "--address"),
    bank: str = typer.Option("", "--bank", help="bank details printed on the application"),
    signatory: str = typer.Option(
        "", "--signatory", help="who signs, e.g. «Представитель по доверенности …»"
    ),
) -> None:
    """Set the claimant (взыскатель): the management company."""
    import psycopg

    with _connection() as conn:
        try:
            conn.execute(
                "INSERT INTO claims_claimant (claimant_id, name, inn, ogrn, address, bank_details, signatory)"
                " VALUES (1, %s, %s, %s, %s, %s, %s) ON CONFLICT (claimant_id) DO UPDATE SET"
                " name = EXCLUDED.name, inn = EXCLUDED.inn, ogrn = EXCLUDED.ogrn, address = EXCLUDED.address,"
                " bank_details = EXCLUDED.bank_details, signatory = EXCLUDED.signatory",
                (name, inn, ogrn, address, bank, signatory),
            )
        except psycopg.errors.CheckViolation:
            _fail(ValueError("--inn must have 10 or 12 digits, --ogrn 13 or 15"))
        conn.commit()
    typer.echo(f"claimant: {name}")


@app.command()
def instalment(
    account: str = typer.Argument(...),
    signed: str = typer.Option(..., "--signed", help="YYYY-MM-DD"),
    ends: str = typer.Option(..., "--ends", help="YYYY-MM-DD"),
    note: str = typer.Option("", "--note"),
) -> None:
    """Record an instalment agreement (соглашение о рассрочке): the account is not selected while it runs."""
    with _connection() as conn:
        if conn.execute("SELECT 1 FROM accounts WHERE account_no = %s", (account,)).fetchone() is None:
            _fail(LookupError(f"account {account!r} does not exist"))
        first, last = day_option(signed, "--signed"), day_option(ends, "--ends")
        if last < first:
            _fail(ValueError("--ends is before --signed"))
        conn.execute(
            "INSERT INTO claims_instalments (account_no, signed_on, ends_on, note, created_by)"
            " VALUES (%s, %s, %s, %s, %s)",
            (account, first, last, note, _actor()),
        )
        conn.commit()
    typer.echo(f"{account}: instalment agreement {first} – {last}")


@app.command()
def debtors(
    as_of: str = typer.Option(..., "--as-of", help="YYYY-MM-DD"),
    building: str | None = typer.Option(None, "--building"),
    min_months: int = typer.Option(3, "--min-months"),
    min_amount: str = typer.Option("0.01", "--min-amount", help="rubles"),
) -> None:
    """Debtors to claim: months in debt and amount, without instalment agreements and open cases."""
    from meterhub.claims.selection import select_debtors

    with _connection() as conn:
        found = select_debtors(
            conn,
            day_option(as_of, "--as-of"),
            building_id=building,
            min_months=min_months,
            min_amount=_kopecks(min_amount, "--min-amount"),
        )
    for d in found:
        typer.echo(
            f"{d.account_no}\t{d.building_id}/{d.premise_no}\t{d.owner_name}\t{d.months} мес."
            f"\tс {d.oldest}\t{_rub(d.amount)}\tпени {_rub(d.penalty)}"
        )
    typer.echo(f"{len(found)} debtors, {_rub(sum(d.amount for d in found))} ₽ overdue")


@app.command()
def statement(account: str = typer.Argument(...), as_of: str = typer.Option(..., "--as-of")) -> None:
    """The account's debt per period and service with penalties as of a day; time-barred periods flagged."""
    from meterhub.claims.selection import debt_statement

    with _connection() as conn:
        result = debt_statement(conn, account, day_option(as_of, "--as-of"))
    for x in result.lines:
        flag = "  СРОК ДАВНОСТИ ИСТЁК" if x.time_barred else ""
        typer.echo(f"{x.period}\t{x.service}\t{x.kind}\t{_rub(x.amount)}\tсрок оплаты {x.due_date}{flag}")
    typer.echo(f"principal {_rub(result.total('principal'))}, penalties {_rub(result.total('penalty'))}")


def _accounts_or_debtors(
    conn: psycopg.Connection, accounts: list[str], day: date, building: str | None, min_months: int
) -> list[str]:
    """The accounts named on the command line; ``-`` alone: the debtors on ``day`` (of ``--building``)."""
    from meterhub.claims.selection import select_debtors

    if accounts != ["-"]:
        return accounts
    return [d.account_no for d in select_debtors(conn, day, building_id=building, min_months=min_months)]


@app.command()
def pretrial(
    accounts: list[str] = typer.Argument(..., help="accounts, or '-' with --building for all its debtors"),  # noqa: B008
    as_of: str = typer.Option(..., "--as-of"),
    pay_by: str = typer.Option(..., "--pay-by"),
    building: str | None = typer.Option(None, "--building"),
    min_months: int = typer.Option(3, "--min-months"),
    out: Path = typer.Option(Path("."), "--out", file_okay=False),  # noqa: B008
) -> None:
    """Pre-trial claims as PDF, one per debtor, recorded in the register of sent claims."""
    from meterhub.claims.documents import pretrial_document
    from meterhub.claims.pdf import render_pretrial_pdf
    from meterhub.claims.pretrial import register_pretrial_letter

    day, deadline = day_option(as_of, "--as-of"), day_option(pay_by, "--pay-by")
    out.mkdir(parents=True, exist_ok=True)
    with _connection() as conn:
        accounts = _accounts_or_debtors(conn, accounts, day, building, min_months)
        for account in accounts:
            try:
                letter = register_pretrial_letter(conn, account, day, deadline, _actor())
                pdf = render_pretrial_pdf(pretrial_document(conn, account, day, deadline))
            except (LookupError, ValueError) as exc:
                conn.rollback()
                typer.echo(f"{account}: {exc}", err=True)
                continue
            (out / f"pretenziya_{account}_{day}.pdf").write_bytes(pdf)
            conn.commit()
            typer.echo(f"{account}: claim {letter}")


@app.command()
def prepare(
    accounts: list[str] = typer.Argument(..., help="accounts, or '-' with --building for all its debtors"),  # noqa: B008
    as_of: str = typer.Option(..., "--as-of"),
    filed_on: str | None = typer.Option(
        None, "--filed-on", help="day of filing for the fee (default --as-of)"
    ),
    building: str | None = typer.Option(None, "--building"),
    min_months: int = typer.Option(3, "--min-months"),
    include_time_barred: bool = typer.Option(False, "--include-time-barred"),
    out: Path = typer.Option(Path("."), "--out", file_okay=False),  # noqa: B008
) -> None:
    """Court-order applications in a batch: a case per account, its PDF written and attached to the case."""
    from meterhub.claims.cases_store import attach_document, prepare_case
    from meterhub.claims.documents import application_document
    from meterhub.claims.pdf import render_application_pdf

    day = day_option(as_of, "--as-of")
    out.mkdir(parents=True, exist_ok=True)
    with _connection() as conn:
        accounts = _accounts_or_debtors(conn, accounts, day, building, min_months)
        for account in accounts:
            try:
                case_id = prepare_case(
                    conn,
                    account,
                    as_of=day,
                    actor=_actor(),
                    filed_on=day_option(filed_on, "--filed-on"),
                    include_time_barred=include_time_barred,
                )
                pdf = render_application_pdf(application_document(conn, case_id))
                name = f"zayavlenie_{account}_{case_id}.pdf"
                attach_document(conn, case_id, "application", name, "application/pdf", pdf, _actor())
            except (LookupError, ValueError) as exc:
                conn.rollback()
                typer.echo(f"{account}: {exc}", err=True)
                continue
            conn.commit()
            (out / name).write_bytes(pdf)
            typer.echo(f"{account}: case {case_id} → {out / name}")


def _award(text: str):
    """``1:1750.00`` (by share), ``1+2:3529.93:2000.00`` (solidarily, with the court costs)."""
    from meterhub.claims.awards import Award

    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.strip().isdigit() for p in parts[0].split("+")):
        raise typer.BadParameter(f"--award {text!r}: expected DEBTOR:RUBLES[:COSTS] or D1+D2:RUBLES[:COSTS]")
    debtors = tuple(int(p) for p in parts[0].split("+"))
    costs = _kopecks(parts[2], "--award") if len(parts) == 3 else 0
    return Award("solidary" if len(debtors) > 1 else "share", debtors, _kopecks(parts[1], "--award"), costs)


@app.command()
def step(
    case_id: int = typer.Argument(...),
    state: str = typer.Argument(..., help="filed, order_issued, order_cancelled, lawsuit_filed, decision, …"),
    on: str = typer.Option(..., "--on", help="the day it happened"),
    number: str | None = typer.Option(None, "--number", help="номер дела"),
    court: str | None = typer.Option(None, "--court"),
    awarded: str | None = typer.Option(None, "--awarded", help="rubles awarded (default: what was claimed)"),
    award: list[str] = typer.Option(  # noqa: B008
        [],
        "--award",
        help="what the act awards, per defendant: DEBTOR:RUBLES[:COSTS] by share, D1+D2:RUBLES[:COSTS] "
        "solidarily (debtor numbers of the case; repeat for each award)",
    ),
    in_force: str | None = typer.Option(None, "--in-force", help="day the act came into force"),
    proceeding: str = typer.Option("", "--proceeding", help="№ исполнительного производства"),
    office: str = typer.Option("", "--office", help="отделение ФССП or the bank"),
    note: str = typer.Option("", "--note"),
) -> None:
    """Record a step of the case's life."""
    from meterhub.claims.cases_store import record_step

    details = {k: v for k, v in (("proceeding", proceeding), ("office", office)) if v}
    with _connection() as conn:
        try:
            record_step(
                conn,
                case_id,
                state,
                day_option(on, "--on"),
                _actor(),
                note=note,
                case_number=number,
                court=court,
                awarded_kopecks=_kopecks(awarded, "--awarded") if awarded else None,
                in_force_on=day_option(in_force, "--in-force"),
                details=details,
                awards=[_award(a) for a in award] or None,
            )
        except (LookupError, ValueError) as exc:
            _fail(exc)
        conn.commit()
    typer.echo(f"case {case_id}: {state} on {on}")


@app.command()
def attach(
    case_id: int = typer.Argument(...),
    file: Path = typer.Argument(..., exists=True, dir_okay=False),  # noqa: B008
    kind: str = typer.Option(..., "--kind", help="court_order, writ, decision, fssp_decision, other …"),
) -> None:
    """Keep a court document with the case (attached to its latest step)."""
    import mimetypes

    from meterhub.claims.cases_store import attach_document

    with _connection() as conn:
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        try:
            document = attach_document(conn, case_id, kind, file.name, mime, file.read_bytes(), _actor())
        except (LookupError, ValueError) as exc:
            _fail(exc)
        conn.commit()
    typer.echo(f"case {case_id}: document {document}")


@app.command()
def writ(
    case_id: int = typer.Argument(...),
    amount: str = typer.Argument(..., help="rubles received"),
    on: str = typer.Option(..., "--on"),
    reference: str = typer.Option(..., "--reference", help="№ платёжного поручения"),
    debtor: int | None = typer.Option(
        None,
        "--debtor",
        help="the debtor (number in the case) the money came from; needed for several awards",
    ),
) -> None:
    """Money received under the case's court act from one debtor: his award's debts, then its court costs,
    then advance."""
    from meterhub.claims.writ_payments import receive_under_writ

    with _connection() as conn:
        try:
            result = receive_under_writ(
                conn,
                case_id,
                _kopecks(amount, "amount"),
                day_option(on, "--on"),
                reference,
                _actor(),
                debtor_no=debtor,
            )
        except (LookupError, ValueError) as exc:
            _fail(exc)
        conn.commit()
    typer.echo(
        f"case {case_id}: debts {_rub(result.to_debts)}, court costs {_rub(result.to_costs)}, "
        f"advance {_rub(result.to_advance)}"
    )


@app.command()
def reversal(
    case_id: int = typer.Argument(...),
    amount: str = typer.Argument(..., help="rubles the ruling returns to the debtor"),
    debtor: int = typer.Option(..., "--debtor", help="the debtor (number in the case) it returns to"),
    ruled: str = typer.Option(..., "--ruled", help="the day of the ruling (определение)"),
    number: str = typer.Option("", "--number", help="№ определения"),
    court: str = typer.Option("", "--court"),
    returned: str | None = typer.Option(None, "--returned", help="the day the money went back"),
) -> None:
    """Поворот исполнения (ГПК РФ ст. 443–444): the court's ruling returning money collected under the
    cancelled order — its court costs part and the debts paid last first, posted as a negative writ
    payment that reopens those debts."""
    from meterhub.claims.reversal import reverse_execution

    with _connection() as conn:
        try:
            result = reverse_execution(
                conn,
                case_id,
                debtor_no=debtor,
                amount_kopecks=_kopecks(amount, "amount"),
                ruled_on=day_option(ruled, "--ruled"),
                actor=_actor(),
                ruling_number=number,
                court_name=court,
                returned_on=day_option(returned, "--returned") if returned else None,
            )
        except (LookupError, ValueError) as exc:
            _fail(exc)
        conn.commit()
    typer.echo(
        f"case {case_id}: returned {_rub(result.from_debts + result.from_costs)} — out of debts "
        f"{_rub(result.from_debts)} (owed again), out of court costs {_rub(result.from_costs)}"
    )


@app.command()
def timeline(case_id: int = typer.Argument(...)) -> None:
    """The case's steps with who recorded them and their documents."""
    from meterhub.claims.cases_store import case_timeline

    with _connection() as conn:
        steps = case_timeline(conn, case_id)
    if not steps:
        _fail(LookupError(f"case {case_id} does not exist"))
    for s in steps:
        documents = ", ".join(name for _, _, name in s.documents)
        typer.echo(f"{s.happened_on}\t{s.state.title_ru}\t{s.actor}\t{s.note}\t{documents}")


@app.command()
def report(out: Path = typer.Option(..., "--out", dir_okay=False, help="XLSX file")) -> None:  # noqa: B008
    """Cases by state and by building (claimed, awarded, collected, costs, collection rate) and the ФССП
    reconciliation list, as one workbook."""
    from meterhub.claims.reports import reports_xlsx

    with _connection() as conn:
        out.write_bytes(reports_xlsx(conn))
    typer.echo(f"{out}")
