"""Value information block (VIB) of a data record: VIF, VIFEs and plain-text units (EN 13757-3, 6.4).

``parse_vib(buf, pos, …)`` reads the VIF and its extensions starting at ``pos`` and returns a
``Vib`` and the offset of the data field. It raises ``Truncated`` when the block runs past the
end of the record area or has more than 10 VIFEs: the record structure is then broken and the
caller cannot find the next record.

Plain-text VIF (0x7C, or 0xFC with extensions) comes in two placements in the field:

* **text after the VIF** — ``FC 03 'H' 'R' '%' 74``: length byte and text right after the VIF,
  the VIFEs after the text (M-Bus documentation rev. 4.8 / EN 1434-3 wording; sent by Elvaco
  CMa10/CMa11 room sensors);
* **text after the VIFEs** — ``FC 20 03 'C' 'B' 'A'``: the VIFEs first, then length and text
  (EN 13757-3:2013 placement).

``parse_vib`` reads the placement it is told; the record decoder tries both and keeps the one
the bytes allow (see ``records.py``). Without extensions (0x7C) both placements are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from meterhub.collectors.mbus import vif_tables as vt

MAX_VIFE = 10  # EN 13757-3, 6.4.1: at most 10 VIFEs

#: Text of the combinable VIFE 0x7F (table 15): "next VIFEs and data of this block are
#: manufacturer specific". A record carrying it keeps its primary VIF's unit and scale.
MANUFACTURER_VIFE = "manufacturer specific VIFE follows"


class Truncated(Exception):
    """The record structure is broken: a field runs past the end, or too many extensions."""


def take(buf: bytes, pos: int, n: int, what: str) -> bytes:
    """``n`` bytes of ``what`` at ``pos``; ``Truncated`` ("premature end of …") if they are not there."""
    if pos + n > len(buf):
        left = max(len(buf) - pos, 0)
        raise Truncated(f"premature end of {what}: needs {n} byte{'s' * (n != 1)}, {left} left")
    return buf[pos : pos + n]


@dataclass(slots=True)
class Vib:
    info: vt.VifInfo | None
    table: str
    vifes: list[str] = field(default_factory=list)
    error_code: int | None = None
    exponent_shift: int = 0
    exponent_override: int | None = None
    problem: str | None = None
    plain_text: bytes | None = None  # the unit text's bytes as sent (plain-text VIF only)
    manufacturer_specific: bool = False

    @property
    def exponent(self) -> int:
        if self.exponent_override is not None:
            return self.exponent_override
        base = self.info.exponent if self.info else 0
        return base + self.exponent_shift


def is_plain_text_with_extensions(vif: int) -> bool:
    return vif == 0xFC


def plausible_text(raw: bytes) -> bool:
    """A unit text a meter would send: printable characters (Latin-1), possibly none."""
    return all(0x20 <= b <= 0x7E or b >= 0xA0 for b in raw)


def _text(buf: bytes, pos: int) -> tuple[bytes, int]:
    length = take(buf, pos, 1, "plain-text VIF length")[0]
    return bytes(take(buf, pos + 1, length, "plain-text VIF")), pos + 1 + length


def parse_vib(buf: bytes, pos: int, big_endian: bool = False, text_first: bool = True) -> tuple[Vib, int]:
    """Parse the VIB at ``pos``; returns it and the offset of the data field.

    ``text_first`` chooses the plain-text placement for VIF 0xFC (see the module docstring).
    """
    vif = take(buf, pos, 1, "VIF")[0]
    pos += 1
    base = vif & 0x7F
    ext = bool(vif & 0x80)
    vib = Vib(None, "primary")
    if base in (0x7B, 0x7D):  # 0xFB / 0xFD: the true VIF is the next byte
        if not ext:
            vib.problem = f"VIF 0x{vif:02X} announces an extension table but has no extension bit"
        else:
            code = take(buf, pos, 1, "VIF extension")[0]
            pos += 1
            vib.table = "0xFB" if base == 0x7B else "0xFD"
            vib.info = vt.fb_vif(code) if base == 0x7B else vt.fd_vif(code)
            if vib.info is None:
                vib.problem = f"reserved VIFE 0x{code:02X} in table {vib.table}"
            ext = bool(code & 0x80)
    elif base == 0x7C:
        vib.table = "plain text"
        if text_first or not ext:
            vib.plain_text, pos = _text(buf, pos)
    elif base == 0x7E:
        vib.table, vib.info = "any", vt.VifInfo("any_vif", "", 0, "any VIF (readout selection)")
    elif base == 0x7F:
        vib.table = "manufacturer"
        vib.info = vt.VifInfo("manufacturer_specific", "", 0, "manufacturer specific")
        vib.manufacturer_specific = True
    elif base == 0x6F:
        vib.problem = "VIF 0x6F is reserved"
    else:
        vib.info = vt.primary_vif(base)
        if vib.info is None:
            vib.problem = f"reserved primary VIF 0x{vif:02X}"
    pos = _parse_vifes(buf, pos, ext, vib)
    if base == 0x7C:
        if vib.plain_text is None:  # text after the VIFEs
            vib.plain_text, pos = _text(buf, pos)
        sent = vib.plain_text if big_endian else vib.plain_text[::-1]  # LSB first: last character first
        text = sent.decode("latin-1")
        vib.info = vt.VifInfo("plain_text", text, 0, f"plain-text unit {text!r}")
    return vib, pos


def _parse_vifes(buf: bytes, pos: int, ext: bool, vib: Vib) -> int:
    count = 0
    manufacturer_vifes = vib.table == "manufacturer"
    while ext:
        count += 1
        if count > MAX_VIFE:
            raise Truncated(f"more than {MAX_VIFE} VIFEs (EN 13757-3 allows at most 10)")
        code = take(buf, pos, 1, "VIFE")[0]
        pos += 1
        ext = bool(code & 0x80)
        c = code & 0x7F
        if manufacturer_vifes:
            vib.vifes.append(f"manufacturer VIFE 0x{code:02X}")
            continue
        if c <= 0x1F:
            vib.error_code = c
            continue
        mul = vt.multiplier_exponent(c)
        if mul is not None:
            vib.exponent_shift += mul
            vib.vifes.append(f"multiplicative correction factor 10^{mul}")
            continue
        add = vt.additive_exponent(c)
        if add is not None:
            vib.exponent_override = add
            vib.vifes.append(f"additive correction constant 10^{add}")
            continue
        if c == 0x7F:
            # Table 15: the following VIFEs and the data are manufacturer specific; the primary
            # VIF still states the quantity, its unit and its scale (EMU, NZR, Saia send it).
            vib.vifes.append(MANUFACTURER_VIFE)
            vib.manufacturer_specific = manufacturer_vifes = True
            continue
        text = vt.combinable_vife(c)
        vib.vifes.append(text if text is not None else f"reserved VIFE 0x{code:02X}")
    return pos
