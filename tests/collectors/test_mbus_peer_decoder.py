"""Every real telegram of tests/data/mbus decoded by a second, independent decoder — pyMeterBus
(PyPI ``pymeterbus``) — and compared with ours record by record.

pyMeterBus has known gaps (shared/reference/libraries.md); the records where it is wrong are listed
in ``PEER_GAPS`` with the reason taken from EN 13757-3, so a new disagreement fails the test.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal

import pytest
from mbus_support import DATA, frame_bytes, telegram

from meterhub.collectors.mbus import DataRecord, RecordError

meterbus = pytest.importorskip("meterbus", reason="pymeterbus (dev extra) is the peer decoder")

#: Telegrams pyMeterBus does not decode at all.
PEER_CANNOT = {
    "example_plain_text_placement": "plain-text VIF with its text after the VIFEs (EN 13757-3:2013)",
    "manual_frame2": "fixed data structure (CI 0x73)",
    "sen_pollutherm": "a reserved VIF (0x7B without extension bit) stops it",
}
#: (telegram, record index): where pyMeterBus is wrong.
PEER_GAPS = {
    ("example_binary16_lvar", 0): "LVAR 0xF0 (16-byte binary) is read as a number and a second record",
    ("LGB_G350", 1): "type I date/time (48 bit, with seconds) is read as type F",
    ("landis+gyr_ultraheat_t230", 19): "VIFE 0x6A/0x6E 'date of … limit exceed' is ignored: a date as power",
    ("landis+gyr_ultraheat_t230", 20): "as above (an all-zero date, invalid for us)",
    ("landis+gyr_ultraheat_t230", 21): "as above: the date 2011-08-26 20:50 read as a temperature",
    ("landis+gyr_ultraheat_t230", 22): "as above: the date 2011-08-09 11:43 read as a temperature",
}
_TIME_TO_S = {"s": 1, "min": 60, "h": 3600, "d": 86400}
_ENERGY_TO_WH = {"Wh": 1, "MWh": 10**6}
_PEER_UNIT = {"m3": "M3", "m3/h": "M3_H", "degC": "C", "K": "K", "W": "W", "V": "V", "A": "A", "J": "J"}


def _peer_records(name: str) -> list:
    parsed = meterbus.load(frame_bytes(name))
    special = ("FunctionType.SPECIAL_FUNCTION", "FunctionType.MORE_RECORDS_FOLLOW")  # DIF 0x0F / 0x1F
    return [r for r in parsed.records if r.interpreted.get("function") not in special]


def _agrees(ours: DataRecord | RecordError, peer: dict) -> bool:
    value, unit = peer.get("value"), str(peer.get("unit")).removeprefix("MeasureUnit.")
    if isinstance(ours, RecordError):  # we refuse it; the peer must not have a real value either
        return isinstance(value, str) and "-00-" in value  # e.g. a type G date of all zeros
    if isinstance(ours.value, datetime):
        return value == ours.value.isoformat(timespec="minutes")
    if isinstance(ours.value, date):
        return value == ours.value.isoformat()
    if isinstance(ours.value, str | bytes):
        return value == ours.value
    number = Decimal(ours.value)
    if ours.unit in _TIME_TO_S:
        number, expected_unit = number * _TIME_TO_S[ours.unit], "SECONDS"
    elif ours.unit in _ENERGY_TO_WH:
        number, expected_unit = number * _ENERGY_TO_WH[ours.unit], "WH"
    else:
        expected_unit = _PEER_UNIT.get(ours.unit, ours.unit or "NONE")
    if unit != expected_unit:
        return False
    return math.isclose(float(number), float(value), rel_tol=1e-9, abs_tol=1e-9)


COMPARED = [p.stem for p in sorted(DATA.glob("*.hex")) if p.stem not in PEER_CANNOT]


@pytest.mark.parametrize("name", COMPARED)
def test_every_record_agrees_with_pymeterbus(name: str):
    ours = telegram(name).records
    peer = _peer_records(name)
    extra = 1 if name == "example_binary16_lvar" else 0  # the peer splits that LVAR in two records
    assert len(peer) == len(ours) + extra, "the two decoders found a different number of records"
    disagree = [
        (i, o, p.interpreted)
        for i, (o, p) in enumerate(zip(ours, peer, strict=False))
        if (name, i) not in PEER_GAPS and not _agrees(o, p.interpreted)
    ]
    assert not disagree


def test_the_comparison_covers_the_manufacturers_of_the_issue():
    compared = sum(len(telegram(name).records) for name in COMPARED)
    assert compared >= 340  # 26 telegrams; a broken glob or an empty peer must not pass quietly
    makers = {telegram(name).header.manufacturer for name in COMPARED}
    assert {"ELV", "EMU", "SBC", "FIN", "ACW", "NZR", "KAM", "LUG", "LGB", "EFE", "SEN", "TCH"} <= makers


@pytest.mark.parametrize(("name", "index"), sorted(PEER_GAPS))
def test_each_listed_peer_gap_is_a_real_disagreement(name: str, index: int):
    """Keeps ``PEER_GAPS`` honest: an entry that agrees would hide nothing and must go."""
    assert not _agrees(telegram(name).records[index], _peer_records(name)[index].interpreted)
