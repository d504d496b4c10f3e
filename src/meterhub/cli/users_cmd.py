"""``meterhub users``: API users, their passwords, buildings and accounts."""

from __future__ import annotations

import sys

import typer

from meterhub.core.settings import get_settings

app = typer.Typer(help="API users: add, passwd, assign, list.", no_args_is_help=True)

ROLES = ("resident", "engineer", "accountant", "admin", "passport_office", "operator", "contractor")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@app.command()
def add(
    username: str = typer.Argument(..., help="login name: latin letters, digits and . _ @ -"),
    role: str = typer.Option(..., "--role", "-r", help=", ".join(ROLES)),
    full_name: str = typer.Option("", "--name", help="full name shown in the cabinet"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
) -> None:
    """Create a user (asks for the password twice unless --password-stdin)."""
    from meterhub.api.passwords import PasswordPolicyError
    from meterhub.api.roles import Role
    from meterhub.api.users_store import UserError, create_user
    from meterhub.cli.common import migrated_connection

    if role not in ROLES:
        _fail(f"--role {role!r}: use one of {', '.join(ROLES)}")
    password = _read_password(password_stdin)
    with migrated_connection() as conn:
        try:
            rec = create_user(conn, username, password, Role(role), full_name)
        except (UserError, PasswordPolicyError) as exc:
            _fail(str(exc))
        conn.commit()
    typer.echo(f"user {rec.username} ({rec.role.value}) created with id {rec.id}")


@app.command()
def passwd(
    username: str = typer.Argument(...),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="read the password from stdin"),
) -> None:
    """Set a new password; ends every session and token of the user."""
    from meterhub.api.passwords import PasswordPolicyError
    from meterhub.api.users_store import UserError, get_user_record, set_password
    from meterhub.timeseries.database import connect, database_url

    password = _read_password(password_stdin)
    with database_url(get_settings()) as url, connect(url) as conn:
        rec = get_user_record(conn, username=username)
        if rec is None:
            _fail(f"no user {username!r}; create it with `meterhub users add`")
        try:
            set_password(conn, rec.id, password)
        except (UserError, PasswordPolicyError) as exc:
            _fail(str(exc))
        conn.commit()
    typer.echo(f"password of {rec.username} changed; its sessions and tokens were ended")


@app.command()
def assign(
    username: str = typer.Argument(...),
    building: list[str] = typer.Option(  # noqa: B008 - typer declares options in defaults
        [], "--building", "-b", help="building id for an engineer (repeatable; replaces the current set)"
    ),
    account: list[str] = typer.Option(  # noqa: B008
        [], "--account", "-a", help="account number to link to a resident (repeatable; adds)"
    ),
    unlink: list[str] = typer.Option([], "--unlink", help="account number to unlink"),  # noqa: B008
) -> None:
    """Assign buildings to staff or link accounts to a resident."""
    import getpass

    from meterhub.api.link_audit import record_link_event
    from meterhub.api.roles import Role
    from meterhub.api.users_store import (
        UserError,
        assign_buildings,
        get_user_record,
        link_account,
        unlink_account,
    )
    from meterhub.timeseries.database import connect, database_url

    if not (building or account or unlink):
        _fail("nothing to do: pass --building, --account or --unlink")
    try:
        actor = f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name for the process's uid (a container)
        actor = "cli"
    with database_url(get_settings()) as url, connect(url) as conn:
        rec = get_user_record(conn, username=username)
        if rec is None:
            _fail(f"no user {username!r}; create it with `meterhub users add`")
        if (account or unlink) and rec.role is not Role.RESIDENT:
            _fail(f"{rec.username} is {rec.role.value}: accounts are linked to residents only")
        try:
            if building:
                assign_buildings(conn, rec.id, building)
            for a in account:
                if link_account(conn, rec.id, a, "admin"):
                    record_link_event(conn, a, "linked_by_staff", None, user_id=rec.id, actor_name=actor)
            for a in unlink:
                if unlink_account(conn, rec.id, a):
                    record_link_event(conn, a, "unlinked", None, user_id=rec.id, actor_name=actor)
        except UserError as exc:
            _fail(str(exc))
        conn.commit()
        rec = get_user_record(conn, user_id=rec.id)
    typer.echo(
        f"{rec.username}: buildings {', '.join(rec.building_ids) or '-'}; "
        f"accounts {', '.join(rec.account_nos) or '-'}"
    )


@app.command("list")
def list_(role: str = typer.Option(None, "--role", "-r", help="only this role")) -> None:
    """List users with role, buildings and accounts."""
    from meterhub.api.roles import Role
    from meterhub.api.users_store import list_users
    from meterhub.timeseries.database import connect, database_url

    if role is not None and role not in ROLES:
        _fail(f"--role {role!r}: use one of {', '.join(ROLES)}")
    with database_url(get_settings()) as url, connect(url) as conn:
        users = list_users(conn, Role(role) if role else None)
    for u in users:
        state = "" if u.active else " (disabled)"
        typer.echo(
            f"{u.id:>5} {u.username:<24} {u.role.value:<10} buildings={','.join(u.building_ids) or '-'} "
            f"accounts={','.join(u.account_nos) or '-'}{state}"
        )
