"""The M-Bus device profile: which data records of a telegram become which meterhub registers.

Data, not code: a record is selected by the EN 13757-3 quantity of its VIF (``energy``,
``volume``, ``flow_temperature`` … — the keys of ``vif_tables``) and by the DIB coordinates
storage number, tariff, subunit and function field, plus the exact list of combinable VIFEs
(none by default, so e.g. a "per input pulse" or a time-stamp record never stands in for the
counter itself). The value is converted from the record's unit to the catalogue unit of the
register (Wh, J, MWh, GJ → Gcal or kWh; l → m³; …) and may be scaled further.

Example (``profile_data/kamstrup-multical-601.toml``)::

    [profile]
    id = "kamstrup-multical-601"
    manufacturer = "KAM"
    model = "MULTICAL 601"
    protocol = "mbus"
    kind = "heat"
    source = "Kamstrup MULTICAL 601 technical description, M-Bus data telegram"

    [mbus]
    manufacturers = ["KAM"]
    media = [0x04, 0x0C]

    [[records]]
    name = "heat_gcal"            # meterhub register
    quantity = "energy"           # any energy unit the meter sends (kWh, MWh, GJ, …)
    storage = 0
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from meterhub.collectors.mbus.records import Function
from meterhub.collectors.profile_base import DeviceProfile, RegisterName

#: VIF quantities a profile may select (``vif_tables`` keys with a numeric value).
NUMERIC_QUANTITIES = frozenset(
    {
        "energy", "volume", "mass", "on_time", "operating_time", "power", "volume_flow", "mass_flow",
        "flow_temperature", "return_temperature", "temperature_difference", "external_temperature",
        "pressure", "hca_units", "averaging_duration", "actuality_duration", "credit", "debit",
        "voltage", "current", "battery_operating_time", "max_power_count", "temperature_limit",
        "plain_text", "manufacturer_specific", "dimensionless", "reset_counter", "cumulation_counter",
    }
)  # fmt: skip


class MbusDefaults(BaseModel):
    """The ``[mbus]`` table: which telegrams the profile accepts (empty list = any)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    manufacturers: list[str] = Field(default_factory=list, description="3-letter FLAG codes")
    media: list[int] = Field(default_factory=list, description="medium codes of the fixed header")

    @field_validator("manufacturers")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if len(code) != 3 or not code.isalpha() or not code.isupper():
                raise ValueError(f"manufacturer {code!r} must be a 3-letter upper-case FLAG code, e.g. 'KAM'")
        return value

    @field_validator("media")
    @classmethod
    def _media(cls, value: list[int]) -> list[int]:
        for code in value:
            if not 0 <= code <= 0xFF:
                raise ValueError(f"medium {code} out of range 0..255")
        return value


class MbusRecord(BaseModel):
    """One ``[[records]]`` entry: a meterhub register taken from one data record.

    The value is ``convert(record value, record unit → catalogue unit) × scale + offset``.
    ``unit_text`` selects plain-text VIF records by their unit string.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: RegisterName
    quantity: str
    storage: int = Field(default=0, ge=0)
    tariff: int = Field(default=0, ge=0)
    subunit: int = Field(default=0, ge=0)
    function: Function = Function.INSTANTANEOUS
    vife: list[str] = Field(default_factory=list)
    unit_text: str | None = None
    scale: float = 1.0
    offset: float = 0.0

    @field_validator("quantity")
    @classmethod
    def _known_quantity(cls, value: str) -> str:
        if value not in NUMERIC_QUANTITIES:
            raise ValueError(
                f"quantity {value!r} is not a numeric EN 13757-3 quantity "
                f"(known: {', '.join(sorted(NUMERIC_QUANTITIES))})"
            )
        return value

    @model_validator(mode="after")
    def _scale_nonzero(self) -> MbusRecord:
        if self.scale == 0:
            raise ValueError("scale must not be zero")
        if self.quantity == "plain_text" and not self.unit_text:
            raise ValueError("quantity 'plain_text' needs unit_text (the unit string the meter sends)")
        return self


class MbusProfile(DeviceProfile):
    """An M-Bus meter model: ``[profile]``, ``[mbus]`` filters and ``[[records]]``."""

    mbus: MbusDefaults = Field(default_factory=MbusDefaults)
    records: list[MbusRecord] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> MbusProfile:
        seen: set[str] = set()
        for record in self.records:
            if record.name in seen:
                raise ValueError(f"register {record.name!r} is mapped twice")
            seen.add(record.name)
        return self

    def accepts(self, manufacturer: str | None, medium: int | None) -> bool:
        """Is a telegram with this manufacturer and medium one of this model's?"""
        if self.mbus.manufacturers and manufacturer not in self.mbus.manufacturers:
            return False
        return not (self.mbus.media and medium not in self.mbus.media)
