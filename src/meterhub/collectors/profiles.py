"""Load device profiles (TOML, one file per meter model) and validate them on load.

The loader reads ``[profile].protocol`` and validates the whole file with the model registered for
that protocol in :data:`PROFILE_MODELS`. Errors name the file, the register and the problem::

    sdm120.toml: register 'energy_import_kwh': address 70000 out of range 0..65535

Profiles shipped with meterhub live in ``collectors/profile_data/*.toml``; a site may keep its own
files anywhere and load them by path. Adding a meter model needs a file, not code.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from meterhub.collectors.mbus.profile import MbusProfile
from meterhub.collectors.modbus.profile import ModbusProfile
from meterhub.collectors.profile_base import DeviceProfile, ProfileError

#: protocol name → the pydantic model that validates a profile of that protocol.
PROFILE_MODELS: dict[str, type[DeviceProfile]] = {
    "modbus": ModbusProfile,
    "mbus": MbusProfile,
}

_RECORD_LISTS = ("registers", "records")  # per-protocol lists whose entries carry a ``name``


def parse_profile(text: str, filename: str = "<profile>") -> DeviceProfile:
    """Validate profile TOML text; ``filename`` only labels the error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{filename}: not valid TOML: {exc}") from None
    return profile_from_dict(data, filename)


def profile_from_dict(data: dict[str, Any], filename: str = "<profile>") -> DeviceProfile:
    """Validate an already parsed profile with the model of its protocol."""
    header = data.get("profile")
    if not isinstance(header, dict):
        raise ProfileError(
            f"{filename}: missing [profile] table (id, manufacturer, model, protocol, kind, source)"
        )
    protocol = header.get("protocol")
    model = PROFILE_MODELS.get(protocol) if isinstance(protocol, str) else None
    if model is None:
        known = ", ".join(sorted(PROFILE_MODELS))
        raise ProfileError(f"{filename}: [profile] protocol {protocol!r} is not supported (known: {known})")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProfileError("\n".join(_describe(filename, data, err) for err in exc.errors())) from None


def load_profile(path: str | Path) -> DeviceProfile:
    """Load and validate one profile file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read profile: {exc.strerror}") from None
    return parse_profile(text, path.name)


def load_profiles(paths: Iterable[str | Path]) -> dict[str, DeviceProfile]:
    """Load several files; ids must be unique."""
    found: dict[str, DeviceProfile] = {}
    for path in paths:
        profile = load_profile(path)
        if profile.id in found:
            raise ProfileError(f"{Path(path).name}: profile id {profile.id!r} is already defined elsewhere")
        found[profile.id] = profile
    return found


@cache
def builtin_profiles() -> dict[str, DeviceProfile]:
    """Every profile shipped in ``collectors/profile_data``, by id."""
    found: dict[str, DeviceProfile] = {}
    folder = resources.files("meterhub.collectors") / "profile_data"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = parse_profile(entry.read_text(encoding="utf-8"), entry.name)
            if profile.id in found:
                raise ProfileError(f"{entry.name}: profile id {profile.id!r} is already defined elsewhere")
            found[profile.id] = profile
    return found


def get_profile(id_or_path: str | Path) -> DeviceProfile:
    """A shipped profile by id, or a profile file by path (anything ending in ``.toml``)."""
    text = str(id_or_path)
    if text.endswith(".toml"):
        return load_profile(text)
    profiles = builtin_profiles()
    try:
        return profiles[text]
    except KeyError:
        raise ProfileError(
            f"no profile {text!r}; shipped profiles: {', '.join(sorted(profiles))} (or pass a .toml path)"
        ) from None


def _describe(filename: str, data: dict[str, Any], err: Any) -> str:
    """One line per pydantic error: file, the register (by name) or table, and the problem."""
    loc = tuple(err.get("loc", ()))
    message = str(err.get("msg", "invalid"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if len(loc) >= 2 and loc[0] in _RECORD_LISTS and isinstance(loc[1], int):
        entries = data.get(loc[0]) or []
        entry = entries[loc[1]] if loc[1] < len(entries) else {}
        name = entry.get("name") if isinstance(entry, dict) else None
        label = f"register {name!r}" if name else f"{loc[0]}[{loc[1]}]"
        field = ".".join(str(part) for part in loc[2:])
        return f"{filename}: {label}: {field + ': ' if field else ''}{message}"
    if loc:
        table = f"[{loc[0]}]" if len(loc) > 1 else str(loc[0])
        field = ".".join(str(part) for part in loc[1:])
        return f"{filename}: {table}{' ' + field if field else ''}: {message}"
    return f"{filename}: {message}"


__all__ = [
    "PROFILE_MODELS",
    "DeviceProfile",
    "ProfileError",
    "builtin_profiles",
    "get_profile",
    "load_profile",
    "load_profiles",
    "parse_profile",
    "profile_from_dict",
]
