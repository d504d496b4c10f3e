"""Telegrams whose record structure breaks part-way (libmbus error frames, tests/data/mbus/damaged)
and what reaches billing from them: readings marked BAD, the break named in the problems.

The damaged frames are the M-Bus documentation's example telegram (rev. 4.8, p. 43:
``72 78 56 34 12 24 40 01 07 55 00 00 00 | 03 13 15 31 00 | DA 02 3B 13 01 | 8B 60 04 37 18 02``)
cut or padded at its third record, and an Elvaco CMa11 telegram with a broken plain-text VIF.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mbus_support import DATA, frame_bytes, telegram

from meterhub.collectors.mbus import decode_frame, decode_telegram
from meterhub.collectors.mbus.frames import LongFrame, encode_frame
from meterhub.collectors.mbus.mapping import map_readings
from meterhub.collectors.profiles import parse_profile
from meterhub.core import ReadingQuality

TS = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
DAMAGED = sorted(p.stem for p in (DATA / "damaged").glob("*.hex"))
# The same telegram intact (M-Bus documentation rev. 4.8, p. 43): 12.565 m³, max flow, energy.
INTACT = (
    "68 1F 1F 68 08 02 72 78 56 34 12 24 40 01 07 55 00 00 00 "
    "03 13 15 31 00 DA 02 3B 13 01 8B 60 04 37 18 02 18 16"
)


def profile(manufacturers: str, records: dict[str, str]):
    """A test profile: ``records`` maps a meterhub register to the TOML lines that select it."""
    body = "".join(f'\n[[records]]\nname = "{name}"\n{lines}\n' for name, lines in records.items())
    text = f"""
[profile]
id = "test-{len(records)}"
manufacturer = "test"
model = "test meter"
protocol = "mbus"
kind = "heat"
source = "M-Bus documentation rev. 4.8, p. 43 (the example telegram)"

[mbus]
manufacturers = {manufacturers}
{body}"""
    return parse_profile(text, "test-profile.toml")


PAD_WATER = profile('["PAD"]', {"water_m3": 'quantity = "volume"'})
#: volume (storage 0) and the maximum volume flow of storage 5, both in the example telegram
PAD_TWO = profile(
    '["PAD"]',
    {
        "water_m3": 'quantity = "volume"',
        "flow_m3h": 'quantity = "volume_flow"\nstorage = 5\nfunction = "maximum"',
    },
)
#: any manufacturer and medium; energy, volume and a temperature — what billing and dashboards use
ANY_METER = profile(
    "[]",
    {
        "heat_gcal": 'quantity = "energy"',
        "water_m3": 'quantity = "volume"',
        "temp_flow_c": 'quantity = "flow_temperature"',
    },
)


def decode(raw: bytes):
    frame = decode_frame(raw)
    assert isinstance(frame, LongFrame)
    return decode_telegram(frame.ci, frame.data)


@pytest.mark.parametrize(
    ("name", "offset", "why"),
    [
        ("damaged/premature_end_of_data1", 22, "premature end of data"),  # 8B 60 04 and no data
        ("damaged/premature_end_of_data2", 22, "premature end of data"),  # 2 of the 3 BCD bytes
        ("damaged/premature_end_of_dif1", 22, "premature end of DIFE"),  # 8B: a DIFE announced, none
        ("damaged/premature_end_of_dif2", 22, "premature end of DIFE"),  # 8B 8B
        ("damaged/too_many_dife", 22, "more than 10 DIFEs"),  # 8B + 11 × 8B
        ("damaged/too_many_vife", 22, "more than 10 VIFEs"),  # 60 + 11 × 84
        # 12 FC 13 …: neither text placement fits (length 0x13 = 19, or VIFE 0x13 then length 0x48)
        ("damaged/premature_end_of_var_vif1", 34, "fits neither placement"),
        ("damaged/too_long_var_vif", 34, "fits neither placement"),  # 12 FC F3 …: length 243
    ],
)
def test_damaged_telegram_names_where_and_why(name: str, offset: int, why: str):
    t = telegram(name)
    assert t.damaged is not None and f"offset {offset}" in t.damaged and why in t.damaged
    assert t.errors[-1].offset == offset and t.errors[-1].raw == t.raw[offset:]  # the rest kept as is
    assert not t.more_records_follow


def test_records_before_the_break_decode_but_their_readings_are_bad():
    t = telegram("damaged/premature_end_of_data1")
    assert t.data_records[0].value == Decimal("12.565")  # 03 13 15 31 00: 12565 × 10^-3 m³
    mapped = map_readings([t], PAD_WATER, TS)
    (reading,) = mapped.readings
    assert (reading.meter_id, reading.value, reading.quality) == ("PAD-12345678", 12.565, ReadingQuality.BAD)
    assert any("damaged" in p and "offset 22" in p and "BAD" in p for p in mapped.problems)


def test_the_intact_telegram_gives_the_same_reading_good():
    t = decode(bytes.fromhex(INTACT))
    assert t.damaged is None and [r.storage for r in t.data_records] == [0, 5, 0]
    (reading,) = map_readings([t], PAD_WATER, TS).readings
    assert (reading.value, reading.quality) == (12.565, ReadingQuality.GOOD)


def test_a_damaged_telegram_spoils_only_its_own_readings_in_a_read_out():
    damaged, intact = telegram("damaged/premature_end_of_data1"), decode(bytes.fromhex(INTACT))
    mapped = map_readings([intact, damaged], PAD_TWO, TS)
    assert {r.register: r.quality for r in mapped.readings} == {
        "water_m3": ReadingQuality.GOOD,  # the first match is in the intact telegram
        "flow_m3h": ReadingQuality.GOOD,
    }
    mapped = map_readings([damaged, intact], PAD_TWO, TS)
    assert {r.register: r.quality for r in mapped.readings} == {
        "water_m3": ReadingQuality.BAD,
        "flow_m3h": ReadingQuality.BAD,
    }


def _mutations(raw: bytes):
    """Frames of a real telegram with one byte of its user data changed, dropped or doubled,
    checksum recomputed: what a meter with a firmware bug sends (the link layer cannot see it)."""
    frame = decode_frame(raw)
    assert isinstance(frame, LongFrame)
    where = st.integers(0, max(len(frame.data) - 1, 0))
    how = st.sampled_from(["flip", "drop", "double"])
    return st.tuples(where, how, st.integers(1, 255)).map(lambda m: _mutate(frame, *m))


def _mutate(frame: LongFrame, at: int, how: str, xor: int) -> bytes:
    data = bytearray(frame.data)
    if how == "flip":
        data[at] ^= xor
    elif how == "drop":
        del data[at]
    else:
        data.insert(at, data[at])
    return encode_frame(LongFrame(frame.control, frame.address, frame.ci, bytes(data)))


REAL = sorted(p for p in DATA.glob("*.hex"))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(REAL).flatmap(lambda p: _mutations(bytes.fromhex(Path(p).read_text()))))
def test_mutated_real_telegrams_never_raise_and_damage_is_never_good(raw: bytes):
    t = decode(raw)
    for record in t.records:  # every byte of the record area is in a record, an error, or the trailer
        assert record.raw
    mapped = map_readings([t], ANY_METER, TS, identification="00000000", manufacturer="XXX")
    if t.damaged is not None:
        assert all(r.quality is ReadingQuality.BAD for r in mapped.readings)


def test_damaged_frames_are_kept_byte_for_byte():
    for name in DAMAGED:
        raw = frame_bytes(f"damaged/{name}")
        t = decode(raw)
        assert t.raw == decode_frame(raw).data  # the user data as received, for inspection
