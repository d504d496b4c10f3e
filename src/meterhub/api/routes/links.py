"""Linking an account (лицевой счёт) by the code on its receipt, and staff's view and revocation of links.

The code rules are in :mod:`meterhub.api.link_codes`: a recent receipt's code, once, older codes die
with it, and the account's other users are told. Every link, unlink and revocation of codes is audited
(:mod:`meterhub.api.link_audit`); the unlinked resident is told (in the cabinet, and by e-mail when they
want security notices by e-mail).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api import rate_limit
from meterhub.api.deps import AccountNo, Conn, CurrentUser, get_settings, require_role
from meterhub.api.link_audit import ACTION_NAMES, link_events, record_link_event
from meterhub.api.link_codes import CodeState, code_state, match_period, recent_periods
from meterhub.api.notifications import account_user_ids, notify
from meterhub.api.roles import Role, User
from meterhub.api.routes.auth import reserve_attempt
from meterhub.api.schemas import UserOut
from meterhub.api.sessions import digest
from meterhub.api.users_store import link_account, load_user
from meterhub.billing.receipts.link_code import normalize_link_code
from meterhub.core.settings import Settings

router = APIRouter(tags=["auth"])

SettingsDep = Annotated[Settings, Depends(get_settings)]
Staff = Annotated[User, Depends(require_role(Role.ACCOUNTANT, Role.ADMIN))]


class LinkIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_no": "100001", "code": "7K3M-Q9TD"}]})

    account_no: str = Field(min_length=1, max_length=64, description="лицевой счёт from the receipt")
    code: str = Field(min_length=4, max_length=32, description="код привязки printed on the receipt")


class LinkOut(BaseModel):
    user_id: int
    username: str
    full_name: str
    linked_at: datetime
    linked_by: str = Field(description="receipt_code or admin")
    linked_by_name: str = Field(description="по коду с квитанции / администратором")


class LinkEventOut(BaseModel):
    at: datetime
    action: str = Field(description="linked_by_code, linked_by_staff, unlinked or codes_revoked")
    action_name: str
    user_id: int | None
    username: str
    actor_name: str
    actor_role: str
    reason: str


class UnlinkIn(BaseModel):
    """The body of an unlink (optional): the reason is kept in the body, not the URL, so access logs do
    not keep it."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "заявление собственника"}]})

    reason: str = Field(
        default="", max_length=500, description="why (written to the audit and told to the resident)"
    )


class RevokeOut(BaseModel):
    up_to_period: str = Field(description="codes of this period and earlier no longer link the account")


_WRONG = "account number or code is wrong; check the receipt (неверный номер счёта или код привязки)"
_USED = (
    "this code was used already; the next receipt has a new one, or ask the management company "
    "(код уже использован — код с новой квитанции или обратитесь в управляющую компанию)"
)
_REVOKED = (
    "the management company revoked this code; use the code of a newer receipt "
    "(код отозван управляющей компанией — используйте код с более новой квитанции)"
)


@router.post(
    "/me/accounts",
    summary="Link an account (лицевой счёт) by its number and the one-time code on a recent receipt",
    response_model=UserOut,
    responses={
        400: {"description": "wrong, used, revoked or expired code, with the reason"},
        403: {"description": "only residents link accounts"},
        429: {"description": "too many wrong codes"},
    },
)
def link_my_account(
    body: LinkIn, request: Request, user: CurrentUser, conn: Conn, settings: SettingsDep
) -> UserOut:
    if user.role is not Role.RESIDENT:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "only residents link accounts; staff see accounts by role"
        )
    account_no = body.account_no.strip()
    per_user = settings.link_max_failures_per_user
    attempt = reserve_attempt(
        conn, settings, request, "link_code", str(user.id), per_pair=per_user, per_subject=per_user
    )
    exists = conn.execute("SELECT 1 FROM accounts WHERE account_no = %s", (account_no,)).fetchone()
    periods = recent_periods(date.today(), settings.link_code_valid_months)
    period = match_period(account_no, body.code, settings.secret_key, periods) if exists else None
    if period is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, _WRONG)
    rate_limit.succeeded(conn, attempt)  # a right code (even a used one) is not a guess
    if account_no in user.account_nos:
        return UserOut.of(user)
    with conn.transaction():
        conn.execute("SELECT 1 FROM accounts WHERE account_no = %s FOR UPDATE", (account_no,))
        state = code_state(conn, account_no, period)
        if state != CodeState.VALID:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, _USED if state == CodeState.USED else _REVOKED)
        others = account_user_ids(conn, account_no)
        conn.execute(
            "INSERT INTO api_link_code_redemptions (account_no, code_digest, user_id, period) "
            "VALUES (%s, %s, %s, %s)",
            (account_no, digest(f"{period}:{normalize_link_code(body.code)}"), user.id, period),
        )
        link_account(conn, user.id, account_no, "receipt_code")
        record_link_event(
            conn,
            account_no,
            "linked_by_code",
            user,
            user_id=user.id,
            reason=f"код с квитанции за {period[5:]}.{period[:4]}",
        )
        who = user.full_name or user.username
        notify(
            conn,
            others,
            "account_linked",
            f"К лицевому счёту {account_no} подключён пользователь {who} (код с квитанции за "
            f"{period[5:]}.{period[:4]}). Если это не ваш домочадец, обратитесь в управляющую компанию.",
            account_no=account_no,
            subject_key=f"{account_no}:{user.id}",
        )
    fresh = load_user(conn, user.id, user.via)
    assert fresh is not None
    return UserOut.of(fresh)


@router.get(
    "/accounts/{account_no}/links",
    summary="Staff: who is linked to the account and how",
    response_model=list[LinkOut],
)
def account_links(account_no: AccountNo, staff: Staff, conn: Conn) -> list[LinkOut]:
    rows = conn.execute(
        "SELECT u.user_id, u.username, u.full_name, a.linked_at, a.linked_by FROM api_user_accounts a "
        "JOIN api_users u USING (user_id) WHERE a.account_no = %s ORDER BY a.linked_at",
        (account_no,),
    ).fetchall()
    return [
        LinkOut(
            user_id=r[0],
            username=r[1],
            full_name=r[2],
            linked_at=r[3],
            linked_by=r[4],
            linked_by_name="по коду с квитанции" if r[4] == "receipt_code" else "администратором",
        )
        for r in rows
    ]


@router.get(
    "/accounts/{account_no}/link-history",
    summary="Staff: the account's links, unlinks and code revocations, newest first (the audit)",
    response_model=list[LinkEventOut],
)
def account_link_history(account_no: AccountNo, staff: Staff, conn: Conn) -> list[LinkEventOut]:
    return [
        LinkEventOut(
            at=e.at,
            action=e.action,
            action_name=ACTION_NAMES[e.action],
            user_id=e.user_id,
            username=e.username,
            actor_name=e.actor_name,
            actor_role=e.actor_role,
            reason=e.reason,
        )
        for e in link_events(conn, account_no)
    ]


def _revoke_codes(conn, account_no: str, staff: User, why: str = "") -> str:
    # Every code printed so far is of last month or earlier (a debt receipt prints last month's code).
    up_to = recent_periods(date.today(), 1)[1]
    conn.execute(
        "INSERT INTO api_link_code_revocations (account_no, up_to_period, revoked_by) VALUES (%s, %s, %s)",
        (account_no, up_to, staff.id),
    )
    record_link_event(
        conn, account_no, "codes_revoked", staff, reason=f"коды с квитанций по {up_to[5:]}.{up_to[:4]}{why}"
    )
    return up_to


@router.delete(
    "/accounts/{account_no}/links/{user_id}",
    summary="Staff: unlink a user from the account and revoke the account's outstanding codes",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "that user is not linked to the account"}},
)
def revoke_account_link(
    account_no: AccountNo,
    user_id: Annotated[int, Path(ge=1, le=2**62)],
    staff: Staff,
    conn: Conn,
    body: UnlinkIn | None = None,
) -> Response:
    reason = " ".join(body.reason.split()) if body else ""
    with conn.transaction():
        gone = conn.execute(
            "DELETE FROM api_user_accounts WHERE account_no = %s AND user_id = %s", (account_no, user_id)
        ).rowcount
        if not gone:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} is not linked to {account_no}")
        record_link_event(conn, account_no, "unlinked", staff, user_id=user_id, reason=reason)
        _revoke_codes(conn, account_no, staff, " — при отключении пользователя")
        because = f" Причина: {reason}." if reason else ""
        notify(
            conn,
            [user_id],
            "security",
            f"Управляющая компания отключила вас от лицевого счёта {account_no}.{because} Если это ошибка, "
            "обратитесь в управляющую компанию.",
            account_no=account_no,
            subject_key=f"unlinked:{account_no}:{datetime.now().isoformat()}",
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/accounts/{account_no}/link-codes/revoke",
    summary="Staff: revoke the link codes of every receipt printed so far (the next receipt's code works)",
    response_model=RevokeOut,
)
def revoke_link_codes(account_no: AccountNo, staff: Staff, conn: Conn) -> RevokeOut:
    return RevokeOut(up_to_period=_revoke_codes(conn, account_no, staff))
