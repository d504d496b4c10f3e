"""What every device profile shares, whatever the protocol: the ``[profile]`` header and the error type.

A profile is a TOML file, one per meter model, that maps a device's registers (Modbus) or data
records (M-Bus) to meterhub registers. Protocol-specific models (``collectors/modbus/profile.py``,
``collectors/mbus/profile.py``) subclass :class:`DeviceProfile` and add their record lists; the
loader in :mod:`meterhub.collectors.profiles` picks the model from ``profile.protocol``.
No I/O here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from meterhub.core.registers import REGISTERS, MeterKind

Protocol = Literal["modbus", "mbus"]


def _known_register(value: str) -> str:
    if value not in REGISTERS:
        raise ValueError(f"unknown meterhub register (known: {', '.join(sorted(REGISTERS))})")
    return value


RegisterName = Annotated[str, AfterValidator(_known_register)]
"""A profile record's ``name``: a register of the catalogue (``meterhub.core.registers.REGISTERS``)."""


class ProfileError(ValueError):
    """A profile file is invalid. The message names the file, the register and the problem."""


class ProfileHeader(BaseModel):
    """The ``[profile]`` table: which meter model this is and where its map comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$", description="unique id, e.g. eastron-sdm120")
    manufacturer: str = Field(min_length=1, description="manufacturer name or its 3-letter code")
    model: str = Field(min_length=1)
    protocol: Protocol
    kind: MeterKind
    source: str = Field(min_length=1, description="the public document the register map comes from")
    description: str = ""


class DeviceProfile(BaseModel):
    """Base of every protocol's profile model: the header plus protocol-specific records."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: ProfileHeader

    @property
    def id(self) -> str:
        return self.profile.id
