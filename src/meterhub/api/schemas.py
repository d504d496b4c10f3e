"""Response and request models shared by routers (money as strings + kopecks, never floats)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field

from meterhub.api.roles import Role, User

__all__ = ["Money", "UserOut", "kopecks_to_rubles", "money"]


def kopecks_to_rubles(kopecks: int) -> str:
    """12345 → "123.45"; -5 → "-0.05"."""
    return str((Decimal(kopecks) / 100).quantize(Decimal("0.01")))


class Money(BaseModel):
    """An amount in rubles: ``rubles`` is exact with two decimals, ``kopecks`` the same as an integer."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"rubles": "1234.56", "kopecks": 123456}]})

    rubles: str = Field(pattern=r"^-?\d+\.\d{2}$")
    kopecks: int


def money(amount: Decimal | int) -> Money:
    """Money from Decimal rubles or integer kopecks."""
    if isinstance(amount, int):
        return Money(rubles=kopecks_to_rubles(amount), kopecks=amount)
    rounded = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Money(rubles=str(rounded), kopecks=int(rounded * 100))


class UserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "username": "ivanova",
                    "role": "resident",
                    "full_name": "Иванова А. П.",
                    "building_ids": ["b1"],
                    "account_nos": ["100001"],
                }
            ]
        }
    )

    id: int
    username: str
    role: Role
    full_name: str = ""
    building_ids: list[str] = Field(
        description="engineer: assigned buildings; resident: buildings of linked accounts"
    )
    account_nos: list[str] = Field(description="accounts linked to a resident")

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role,
            full_name=user.full_name,
            building_ids=sorted(user.building_ids),
            account_nos=sorted(user.account_nos),
        )
