"""Secondary addresses and selection masks (EN 13757-3, clause 11.4; EN 13757-2, 5.10).

A secondary address is identification number (8 BCD digits) + manufacturer + version + medium.
A selection (SND_UD to primary address 253 with CI 0x52) carries a mask of 8 bytes:
identification number LSB first where any nibble 0xF is a wildcard, manufacturer (0xFFFF =
any), version (0xFF = any) and medium (0xFF = any).

Text form (as in libmbus and most tools): 16 hex characters ``IIIIIIIIMMMMVVDD`` — e.g.
``06855817 2C2D 08 04`` without spaces; ``F`` in the identification part is a wildcard digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meterhub.collectors.mbus.datafields import decode_manufacturer, encode_manufacturer

_ID_RE = re.compile(r"^[0-9F]{8}$")


@dataclass(frozen=True, slots=True)
class SecondaryAddress:
    """A meter's secondary address as read from its fixed header."""

    identification: str
    manufacturer: str
    version: int
    medium: int

    def __str__(self) -> str:
        man = encode_manufacturer(self.manufacturer)
        return f"{self.identification}{man:04X}{self.version:02X}{self.medium:02X}"

    def mask(self) -> SelectionMask:
        return SelectionMask(self.identification, self.manufacturer, self.version, self.medium)


@dataclass(frozen=True, slots=True)
class SelectionMask:
    """What a selection matches; None (or 'F' digits in ``identification``) means any."""

    identification: str = "FFFFFFFF"
    manufacturer: str | None = None
    version: int | None = None
    medium: int | None = None

    def __post_init__(self) -> None:
        ident = self.identification.upper()
        if not _ID_RE.match(ident):
            raise ValueError(
                f"identification mask {self.identification!r} must be 8 characters 0-9 or F (wildcard)"
            )
        object.__setattr__(self, "identification", ident)

    @property
    def wildcard_digits(self) -> int:
        return self.identification.count("F")

    def encode(self) -> bytes:
        """The 8 data bytes of the CI 0x52 selection telegram."""
        ident = bytes.fromhex(self.identification)[::-1]
        man = 0xFFFF if self.manufacturer is None else encode_manufacturer(self.manufacturer)
        return (
            ident
            + man.to_bytes(2, "little")
            + bytes([0xFF if self.version is None else self.version])
            + bytes([0xFF if self.medium is None else self.medium])
        )

    def __str__(self) -> str:
        man = "FFFF" if self.manufacturer is None else f"{encode_manufacturer(self.manufacturer):04X}"
        ver = "FF" if self.version is None else f"{self.version:02X}"
        med = "FF" if self.medium is None else f"{self.medium:02X}"
        return f"{self.identification}{man}{ver}{med}"

    @classmethod
    def parse(cls, text: str) -> SelectionMask:
        """``"12345678"`` or the 16-character form ``"12345678FFFFFFFF"`` / ``"1234567804C51406"``."""
        t = text.strip().replace(" ", "").upper()
        if len(t) == 8:
            return cls(t)
        if len(t) != 16:
            raise ValueError(
                f"secondary address {text!r} must be 8 (identification) or 16 hex characters "
                "(identification, manufacturer, version, medium)"
            )
        man = None if t[8:12] == "FFFF" else decode_manufacturer(int(t[8:12], 16))
        ver = None if t[12:14] == "FF" else int(t[12:14], 16)
        med = None if t[14:16] == "FF" else int(t[14:16], 16)
        return cls(t[:8], man, ver, med)
