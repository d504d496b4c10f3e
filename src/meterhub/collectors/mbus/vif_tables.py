"""VIF/VIFE code tables of EN 13757-3:2013 (clause 8.4): primary VIF (table 10), the main
VIFE extension after 0xFD (table 14), the alternate extension after 0xFB (table 12) and the
combinable (orthogonal) VIFE (tables 15 and 16).

Each lookup returns a ``VifInfo``: the physical quantity, its unit exactly as the standard
states it, and the decimal exponent. The decoded value is ``raw × 10^exponent [unit]``.
"""

from __future__ import annotations

from dataclasses import dataclass

_TIME_UNITS = ("s", "min", "h", "d")
_TIME_UNITS_LONG = ("h", "d", "month", "year")


@dataclass(frozen=True, slots=True)
class VifInfo:
    """Meaning of a VIF: ``quantity`` (a stable key used by profiles), ``unit`` and ``exponent``."""

    quantity: str
    unit: str = ""
    exponent: int = 0
    description: str = ""


def _lin(code: int, base: int, width: int) -> int:
    return (code & ((1 << width) - 1)) + base


def primary_vif(code: int) -> VifInfo | None:
    """Primary VIF table (EN 13757-3, table 10); ``code`` without the extension bit.

    Returns None for 0x7B..0x7F (extension/special codes handled by the record parser) and for
    reserved codes.
    """
    c = code & 0x7F
    if c <= 0x07:
        return VifInfo("energy", "Wh", _lin(c, -3, 3), "energy")
    if c <= 0x0F:
        return VifInfo("energy", "J", _lin(c, 0, 3), "energy")
    if c <= 0x17:
        return VifInfo("volume", "m3", _lin(c, -6, 3), "volume")
    if c <= 0x1F:
        return VifInfo("mass", "kg", _lin(c, -3, 3), "mass")
    if c <= 0x23:
        return VifInfo("on_time", _TIME_UNITS[c & 3], 0, "on time")
    if c <= 0x27:
        return VifInfo("operating_time", _TIME_UNITS[c & 3], 0, "operating time")
    if c <= 0x2F:
        return VifInfo("power", "W", _lin(c, -3, 3), "power")
    if c <= 0x37:
        return VifInfo("power", "J/h", _lin(c, 0, 3), "power")
    if c <= 0x3F:
        return VifInfo("volume_flow", "m3/h", _lin(c, -6, 3), "volume flow")
    if c <= 0x47:
        return VifInfo("volume_flow", "m3/min", _lin(c, -7, 3), "volume flow")
    if c <= 0x4F:
        return VifInfo("volume_flow", "m3/s", _lin(c, -9, 3), "volume flow")
    if c <= 0x57:
        return VifInfo("mass_flow", "kg/h", _lin(c, -3, 3), "mass flow")
    if c <= 0x5B:
        return VifInfo("flow_temperature", "degC", _lin(c, -3, 2), "flow temperature")
    if c <= 0x5F:
        return VifInfo("return_temperature", "degC", _lin(c, -3, 2), "return temperature")
    if c <= 0x63:
        return VifInfo("temperature_difference", "K", _lin(c, -3, 2), "temperature difference")
    if c <= 0x67:
        return VifInfo("external_temperature", "degC", _lin(c, -3, 2), "external temperature")
    if c <= 0x6B:
        return VifInfo("pressure", "bar", _lin(c, -3, 2), "pressure")
    if c == 0x6C:
        return VifInfo("date", "", 0, "time point (date, type G)")
    if c == 0x6D:
        return VifInfo("datetime", "", 0, "time point (date and time, type F or I)")
    if c == 0x6E:
        return VifInfo("hca_units", "", 0, "units for H.C.A.")
    if 0x70 <= c <= 0x73:
        return VifInfo("averaging_duration", _TIME_UNITS[c & 3], 0, "averaging duration")
    if 0x74 <= c <= 0x77:
        return VifInfo("actuality_duration", _TIME_UNITS[c & 3], 0, "actuality duration")
    if c == 0x78:
        return VifInfo("fabrication_number", "", 0, "fabrication number")
    if c == 0x79:
        return VifInfo("enhanced_identification", "", 0, "enhanced identification")
    if c == 0x7A:
        return VifInfo("bus_address", "", 0, "bus address")
    return None


_FD_NAMED: dict[int, tuple[str, str]] = {
    0x08: ("access_number", "access number (transmission count)"),
    0x09: ("medium", "medium (as in fixed header)"),
    0x0A: ("manufacturer", "manufacturer (as in fixed header)"),
    0x0B: ("parameter_set_id", "parameter set identification"),
    0x0C: ("model_version", "model / version"),
    0x0D: ("hardware_version", "hardware version"),
    0x0E: ("firmware_version", "metrology (firmware) version"),
    0x0F: ("software_version", "other software version"),
    0x10: ("customer_location", "customer location"),
    0x11: ("customer", "customer"),
    0x12: ("access_code_user", "access code user"),
    0x13: ("access_code_operator", "access code operator"),
    0x14: ("access_code_system_operator", "access code system operator"),
    0x15: ("access_code_developer", "access code developer"),
    0x16: ("password", "password"),
    0x17: ("error_flags", "error flags (binary)"),
    0x18: ("error_mask", "error mask"),
    0x1A: ("digital_output", "digital output (binary)"),
    0x1B: ("digital_input", "digital input (binary)"),
    0x1E: ("retry", "retry"),
    0x1F: ("remote_control", "remote control (device specific)"),
    0x20: ("first_storage_number", "first storage number for cyclic storage"),
    0x21: ("last_storage_number", "last storage number for cyclic storage"),
    0x22: ("storage_block_size", "size of storage block"),
    0x30: ("tariff_start", "start (date/time) of tariff"),
    0x3A: ("dimensionless", "dimensionless / no VIF"),
    0x60: ("reset_counter", "reset counter"),
    0x61: ("cumulation_counter", "cumulation counter"),
    0x62: ("control_signal", "control signal"),
    0x63: ("day_of_week", "day of week"),
    0x64: ("week_number", "week number"),
    0x65: ("day_change_time", "time point of day change"),
    0x66: ("parameter_activation_state", "state of parameter activation"),
    0x67: ("special_supplier_information", "special supplier information"),
    0x70: ("battery_change_datetime", "date and time of battery change"),
    0x71: ("rf_level", "RF level units dBm"),
    0x74: ("remaining_battery_life", "remaining battery life (days)"),
}


def fd_vif(code: int) -> VifInfo | None:
    """Main VIF extension after 0xFD (EN 13757-3, table 14); ``code`` without extension bit."""
    c = code & 0x7F
    if c <= 0x03:
        return VifInfo("credit", "currency", _lin(c, -3, 2), "credit (local legal currency)")
    if c <= 0x07:
        return VifInfo("debit", "currency", _lin(c, -3, 2), "debit (local legal currency)")
    if c == 0x1C:
        return VifInfo("baud_rate", "Bd", 0, "baud rate")
    if c == 0x1D:
        return VifInfo("response_delay", "bit times", 0, "response delay time")
    if 0x24 <= c <= 0x27:
        return VifInfo("storage_interval", _TIME_UNITS[c & 3], 0, "storage interval")
    if c == 0x28:
        return VifInfo("storage_interval", "month", 0, "storage interval")
    if c == 0x29:
        return VifInfo("storage_interval", "year", 0, "storage interval")
    if 0x2C <= c <= 0x2F:
        return VifInfo("duration_since_readout", _TIME_UNITS[c & 3], 0, "duration since last readout")
    if 0x31 <= c <= 0x33:
        return VifInfo("tariff_duration", _TIME_UNITS[c & 3], 0, "duration of tariff")
    if 0x34 <= c <= 0x37:
        return VifInfo("tariff_period", _TIME_UNITS[c & 3], 0, "period of tariff")
    if c == 0x38:
        return VifInfo("tariff_period", "month", 0, "period of tariff")
    if c == 0x39:
        return VifInfo("tariff_period", "year", 0, "period of tariff")
    if 0x40 <= c <= 0x4F:
        return VifInfo("voltage", "V", _lin(c, -9, 4), "voltage")
    if 0x50 <= c <= 0x5F:
        return VifInfo("current", "A", _lin(c, -12, 4), "current")
    if 0x68 <= c <= 0x6B:
        return VifInfo(
            "duration_since_cumulation", _TIME_UNITS_LONG[c & 3], 0, "duration since last cumulation"
        )
    if 0x6C <= c <= 0x6F:
        return VifInfo("battery_operating_time", _TIME_UNITS_LONG[c & 3], 0, "operating time battery")
    named = _FD_NAMED.get(c)
    if named is not None:
        unit = "dBm" if c == 0x71 else ("d" if c == 0x74 else "")
        return VifInfo(named[0], unit, 0, named[1])
    return None


def fb_vif(code: int) -> VifInfo | None:
    """Alternate VIF extension after 0xFB (EN 13757-3, table 12); ``code`` without extension bit."""
    c = code & 0x7F
    if c <= 0x01:
        return VifInfo("energy", "MWh", _lin(c, -1, 1), "energy")
    if 0x08 <= c <= 0x09:
        return VifInfo("energy", "GJ", _lin(c, -1, 1), "energy")
    if 0x10 <= c <= 0x11:
        return VifInfo("volume", "m3", _lin(c, 2, 1), "volume")
    if 0x18 <= c <= 0x19:
        return VifInfo("mass", "t", _lin(c, 2, 1), "mass")
    if c == 0x21:
        return VifInfo("volume", "ft3", -1, "volume")
    if c == 0x22:
        return VifInfo("volume", "US gal", -1, "volume")
    if c == 0x23:
        return VifInfo("volume", "US gal", 0, "volume")
    if c == 0x24:
        return VifInfo("volume_flow", "US gal/min", -3, "volume flow")
    if c == 0x25:
        return VifInfo("volume_flow", "US gal/min", 0, "volume flow")
    if c == 0x26:
        return VifInfo("volume_flow", "US gal/h", 0, "volume flow")
    if 0x28 <= c <= 0x29:
        return VifInfo("power", "MW", _lin(c, -1, 1), "power")
    if 0x30 <= c <= 0x31:
        return VifInfo("power", "GJ/h", _lin(c, -1, 1), "power")
    if 0x58 <= c <= 0x5B:
        return VifInfo("flow_temperature", "degF", _lin(c, -3, 2), "flow temperature")
    if 0x5C <= c <= 0x5F:
        return VifInfo("return_temperature", "degF", _lin(c, -3, 2), "return temperature")
    if 0x60 <= c <= 0x63:
        return VifInfo("temperature_difference", "degF", _lin(c, -3, 2), "temperature difference")
    if 0x64 <= c <= 0x67:
        return VifInfo("external_temperature", "degF", _lin(c, -3, 2), "external temperature")
    if 0x70 <= c <= 0x73:
        return VifInfo("temperature_limit", "degF", _lin(c, -3, 2), "cold / warm temperature limit")
    if 0x74 <= c <= 0x77:
        return VifInfo("temperature_limit", "degC", _lin(c, -3, 2), "cold / warm temperature limit")
    if 0x78 <= c <= 0x7F:
        return VifInfo("max_power_count", "W", _lin(c, -3, 3), "cumulative count of max power")
    return None


#: Record error codes in the combinable VIFE range E000 xxxx (EN 13757-3, table 16).
RECORD_ERRORS: dict[int, str] = {
    0x00: "none",
    0x01: "too many DIFEs",
    0x02: "storage number not implemented",
    0x03: "unit number not implemented",
    0x04: "tariff number not implemented",
    0x05: "function not implemented",
    0x06: "data class not implemented",
    0x07: "data size not implemented",
    0x0B: "too many VIFEs",
    0x0C: "illegal VIF-group",
    0x0D: "illegal VIF-exponent",
    0x0E: "VIF/DIF mismatch",
    0x0F: "unimplemented action",
    0x15: "no data available (undefined value)",
    0x16: "data overflow",
    0x17: "data underflow",
    0x18: "data error",
    0x1C: "premature end of record",
}
#: Error codes that make the value itself unusable (ReadingQuality.BAD); others are UNCERTAIN.
VALUE_INVALID_ERRORS = frozenset({0x15, 0x16, 0x17, 0x18, 0x1C})

_PER = {
    0x20: "per second",
    0x21: "per minute",
    0x22: "per hour",
    0x23: "per day",
    0x24: "per week",
    0x25: "per month",
    0x26: "per year",
    0x27: "per revolution / measurement",
    0x28: "increment per input pulse on input channel 0",
    0x29: "increment per input pulse on input channel 1",
    0x2A: "increment per output pulse on output channel 0",
    0x2B: "increment per output pulse on output channel 1",
    0x2C: "per litre",
    0x2D: "per m3",
    0x2E: "per kg",
    0x2F: "per K",
    0x30: "per kWh",
    0x31: "per GJ",
    0x32: "per kW",
    0x33: "per (K·l)",
    0x34: "per V",
    0x35: "per A",
    0x36: "multiplied by s",
    0x37: "multiplied by s/V",
    0x38: "multiplied by s/A",
    0x39: "start date(/time) of",
    0x3A: "uncorrected unit",
    0x3B: "accumulation only if positive contributions",
    0x3C: "accumulation of absolute value only if negative contributions",
    0x40: "lower limit value",
    0x48: "upper limit value",
    0x41: "number of exceeds of lower limit",
    0x49: "number of exceeds of upper limit",
    0x7E: "future value",
}


def combinable_vife(code: int) -> str | None:
    """Text of a combinable (orthogonal) VIFE (EN 13757-3, table 15) that does not change the
    value's scale, or None for codes handled elsewhere (errors, correction factors, reserved)."""
    c = code & 0x7F
    if c in _PER:
        return _PER[c]
    if 0x40 <= c <= 0x4F and c & 0x02:  # E100 uf1b (E100 u10x is reserved)
        limit = "upper" if c & 0x08 else "lower"
        which = "last" if c & 0x04 else "first"
        edge = "end" if c & 0x01 else "begin"
        return f"date(/time) of {edge} of {which} {limit} limit exceed"
    if 0x50 <= c <= 0x5F:
        limit = "upper" if c & 0x08 else "lower"
        which = "last" if c & 0x04 else "first"
        return f"duration of {which} {limit} limit exceed [{_TIME_UNITS[c & 3]}]"
    if 0x60 <= c <= 0x67:
        which = "last" if c & 0x04 else "first"
        return f"duration of {which} limit exceed [{_TIME_UNITS[c & 3]}]"
    if c in (0x6A, 0x6B, 0x6E, 0x6F):
        which = "last" if c & 0x04 else "first"
        edge = "end" if c & 0x01 else "begin"
        return f"date(/time) of {edge} of {which} limit exceed"
    return None


def multiplier_exponent(code: int) -> int | None:
    """E111 0nnn: multiplicative correction factor 10^(nnn-6); 0x7D: factor 10^3 (table 15)."""
    c = code & 0x7F
    if 0x70 <= c <= 0x77:
        return c - 0x70 - 6
    if c == 0x7D:
        return 3
    return None


def additive_exponent(code: int) -> int | None:
    """E111 10nn: additive correction constant 10^(nn-3) in the unit of the VIF (table 15)."""
    c = code & 0x7F
    if 0x78 <= c <= 0x7B:
        return (c & 3) - 3
    return None


#: Medium / device type codes of the fixed header (EN 13757-3, table 3 / EN 13757-7 table 12).
MEDIA: dict[int, str] = {
    0x00: "other",
    0x01: "oil",
    0x02: "electricity",
    0x03: "gas",
    0x04: "heat (outlet)",
    0x05: "steam",
    0x06: "warm water (30-90 degC)",
    0x07: "water",
    0x08: "heat cost allocator",
    0x09: "compressed air",
    0x0A: "cooling (outlet)",
    0x0B: "cooling (inlet)",
    0x0C: "heat (inlet)",
    0x0D: "heat / cooling",
    0x0E: "bus / system component",
    0x0F: "unknown medium",
    0x15: "hot water (>= 90 degC)",
    0x16: "cold water",
    0x17: "dual register (hot/cold) water",
    0x18: "pressure",
    0x19: "A/D converter",
    0x1A: "smoke detector",
    0x1B: "room sensor",
    0x1C: "gas detector",
    0x20: "breaker (electricity)",
    0x21: "valve (gas or water)",
    0x25: "customer unit (display)",
    0x28: "waste water",
    0x29: "garbage",
    0x2A: "carbon dioxide",
    0x31: "communication controller",
    0x32: "unidirectional repeater",
    0x33: "bidirectional repeater",
    0x36: "radio converter (system side)",
    0x37: "radio converter (meter side)",
}


def medium_name(code: int) -> str:
    return MEDIA.get(code, f"reserved medium 0x{code:02X}")
