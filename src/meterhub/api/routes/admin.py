"""User administration (admins): create, change, disable, delete users; passwords; building assignments
and account links."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from meterhub.api.deps import Conn, require_role
from meterhub.api.link_audit import record_link_event
from meterhub.api.notifications import notify
from meterhub.api.passwords import PasswordPolicyError
from meterhub.api.roles import Role, User
from meterhub.api.users_store import (
    UserError,
    UserRecord,
    assign_buildings,
    create_user,
    delete_user,
    get_user_record,
    link_account,
    list_users,
    set_password,
    unlink_account,
    update_user,
)

router = APIRouter(prefix="/admin", tags=["admin"])

_admin = require_role(Role.ADMIN)
Admin = Annotated[User, Depends(_admin)]
UserId = Annotated[int, Path(ge=1, le=2**62)]


class AdminUserOut(BaseModel):
    id: int
    username: str
    role: Role
    full_name: str
    active: bool
    building_ids: list[str]
    account_nos: list[str]

    @classmethod
    def of(cls, rec: UserRecord) -> AdminUserOut:
        return cls(
            id=rec.id,
            username=rec.username,
            role=rec.role,
            full_name=rec.full_name,
            active=rec.active,
            building_ids=list(rec.building_ids),
            account_nos=list(rec.account_nos),
        )


class UserCreateIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "petrova",
                    "password": "long-enough-secret",
                    "role": "engineer",
                    "full_name": "Петрова О. В.",
                }
            ]
        }
    )

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    full_name: str = Field(default="", max_length=200)


class UserPatchIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})

    role: Role | None = None
    full_name: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class PasswordIn(BaseModel):
    password: str = Field(min_length=8, max_length=256)


class BuildingsIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"building_ids": ["B1", "B2"]}]})

    building_ids: list[str] = Field(max_length=10000, description="replaces the user's buildings")


class AccountLinkIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"account_no": "LS-1"}]})

    account_no: str = Field(min_length=1, max_length=64)


def _record(conn, user_id: int) -> UserRecord:
    rec = get_user_record(conn, user_id=user_id)
    if rec is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found")
    return rec


def _bad(exc: Exception, code: int = 422) -> HTTPException:
    return HTTPException(code, str(exc))


@router.get("/users", summary="All users, optionally of one role", response_model=list[AdminUserOut])
def admin_list_users(
    _: Admin, conn: Conn, role: Annotated[Role | None, Query(description="only this role")] = None
) -> list[AdminUserOut]:
    return [AdminUserOut.of(r) for r in list_users(conn, role)]


@router.post(
    "/users",
    summary="Create a user",
    response_model=AdminUserOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "the username exists"}},
)
def admin_create_user(body: UserCreateIn, _: Admin, conn: Conn) -> AdminUserOut:
    try:
        rec = create_user(conn, body.username, body.password, body.role, body.full_name)
    except PasswordPolicyError as exc:
        raise _bad(exc) from None
    except UserError as exc:
        raise _bad(exc, status.HTTP_409_CONFLICT) from None
    return AdminUserOut.of(rec)


@router.get("/users/{user_id}", summary="One user", response_model=AdminUserOut)
def admin_get_user(user_id: UserId, _: Admin, conn: Conn) -> AdminUserOut:
    return AdminUserOut.of(_record(conn, user_id))


@router.patch(
    "/users/{user_id}",
    summary="Change role, name or active flag (a role change or disabling ends the user's sessions)",
    response_model=AdminUserOut,
    responses={409: {"description": "an admin cannot demote or disable themselves"}},
)
def admin_patch_user(user_id: UserId, body: UserPatchIn, admin: Admin, conn: Conn) -> AdminUserOut:
    rec = _record(conn, user_id)
    if rec.id == admin.id and (
        body.active is False or (body.role is not None and body.role is not Role.ADMIN)
    ):
        raise HTTPException(
            status.HTTP_409_CONFLICT, "you cannot demote or disable yourself; ask another admin"
        )
    with conn.transaction():
        if body.role is not None and body.role is not rec.role:
            # links and assignments belong to a role: a resident's accounts, staff buildings
            conn.execute("DELETE FROM api_user_accounts WHERE user_id = %s", (user_id,))
            conn.execute("DELETE FROM api_user_buildings WHERE user_id = %s", (user_id,))
        rec = update_user(conn, user_id, role=body.role, full_name=body.full_name, active=body.active)
    return AdminUserOut.of(rec)


@router.delete(
    "/users/{user_id}",
    summary="Delete a user with their sessions and links",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def admin_delete_user(user_id: UserId, admin: Admin, conn: Conn) -> Response:
    if user_id == admin.id:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot delete yourself; ask another admin")
    if not delete_user(conn, user_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/users/{user_id}/password",
    summary="Set a user's password (ends their sessions and tokens)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def admin_set_password(user_id: UserId, body: PasswordIn, _: Admin, conn: Conn) -> Response:
    _record(conn, user_id)
    with conn.transaction():
        try:
            set_password(conn, user_id, body.password)
        except PasswordPolicyError as exc:
            raise _bad(exc) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/users/{user_id}/buildings",
    summary="Assign buildings to a staff user (replaces the set)",
    response_model=AdminUserOut,
)
def admin_assign_buildings(user_id: UserId, body: BuildingsIn, _: Admin, conn: Conn) -> AdminUserOut:
    rec = _record(conn, user_id)
    if rec.role is Role.RESIDENT:
        raise HTTPException(422, "residents get buildings through their accounts; link an account instead")
    with conn.transaction():
        try:
            assign_buildings(conn, user_id, body.building_ids)
        except UserError as exc:
            raise _bad(exc) from None
    return AdminUserOut.of(_record(conn, user_id))


@router.post(
    "/users/{user_id}/accounts",
    summary="Link an account to a resident (without the receipt code)",
    response_model=AdminUserOut,
)
def admin_link_account(user_id: UserId, body: AccountLinkIn, admin: Admin, conn: Conn) -> AdminUserOut:
    rec = _record(conn, user_id)
    if rec.role is not Role.RESIDENT:
        raise HTTPException(422, f"{rec.username} is {rec.role.value}: accounts are linked to residents only")
    try:
        with conn.transaction():
            if link_account(conn, user_id, body.account_no.strip(), "admin"):
                record_link_event(conn, body.account_no.strip(), "linked_by_staff", admin, user_id=user_id)
    except UserError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return AdminUserOut.of(_record(conn, user_id))


@router.delete(
    "/users/{user_id}/accounts/{account_no}",
    summary="Unlink an account from a resident",
    response_model=AdminUserOut,
)
def admin_unlink_account(
    user_id: UserId, account_no: Annotated[str, Path(min_length=1, max_length=64)], admin: Admin, conn: Conn
) -> AdminUserOut:
    _record(conn, user_id)
    with conn.transaction():
        if not unlink_account(conn, user_id, account_no):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"account {account_no} is not linked to user {user_id}"
            )
        record_link_event(conn, account_no, "unlinked", admin, user_id=user_id)
        notify(
            conn,
            [user_id],
            "security",
            f"Администратор отключил вас от лицевого счёта {account_no}. Если это ошибка, обратитесь в "
            "управляющую компанию.",
            account_no=account_no,
            subject_key=f"unlinked:{account_no}:{datetime.now(UTC).isoformat()}",
        )
    return AdminUserOut.of(_record(conn, user_id))
