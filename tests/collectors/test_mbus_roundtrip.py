"""Hypothesis: the simulator's independent encoder ↔ the collectors' decoder, and fuzzing of the
frame parser and the record decoder with random bytes (never a crash, never a silent drop)."""

from __future__ import annotations

import struct
from datetime import datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from meterhub.collectors.mbus import DataRecord, FrameError, RecordError, decode_frame, decode_telegram
from meterhub.collectors.mbus.datafields import decode_manufacturer, encode_bcd
from meterhub.collectors.mbus.records import decode_records
from meterhub.simulators import mbus_encoding as enc

coords = st.fixed_dictionaries(
    {
        "storage": st.integers(0, 2**9 - 1),
        "tariff": st.integers(0, 15),
        "subunit": st.integers(0, 3),
        "function": st.integers(0, 3),
    }
)
VOLUME_VIFS = st.integers(0x10, 0x17)  # volume 10^(n-6) m³


@given(VOLUME_VIFS, st.sampled_from([1, 2, 3, 4, 6, 8]), st.data(), coords)
def test_integer_records_round_trip(vif, size, data, kw):
    value = data.draw(st.integers(-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1))
    record = decode_records(enc.int_record(bytes([vif]), value, size, **kw)).records[0]
    assert isinstance(record, DataRecord)
    assert record.value == Decimal(value).scaleb((vif & 7) - 6)
    assert (record.storage, record.tariff, record.subunit) == (kw["storage"], kw["tariff"], kw["subunit"])
    assert (
        record.function.value
        == ("instantaneous", "maximum", "minimum", "value during error state")[kw["function"]]
    )


@given(VOLUME_VIFS, st.sampled_from([2, 4, 6, 8, 12]), st.data(), coords)
def test_bcd_records_round_trip(vif, digits, data, kw):
    value = data.draw(st.integers(-(10 ** (digits - 1) - 1), 10**digits - 1))
    record = decode_records(enc.bcd_record(bytes([vif]), value, digits, **kw)).records[0]
    assert isinstance(record, DataRecord)
    assert record.value == Decimal(value).scaleb((vif & 7) - 6)


@given(st.integers(-(10**7) + 1, 10**8 - 1))
def test_two_independent_bcd_encoders_agree(value):
    assert enc.bcd(value, 8) == encode_bcd(value, 4)


@given(st.floats(width=32, allow_nan=False, allow_infinity=False))
def test_real_records_round_trip(x):
    record = decode_records(enc.real_record(b"\x2b", x)).records[0]
    assert isinstance(record, DataRecord)
    assert float(record.value) == struct.unpack("<f", struct.pack("<f", x))[0]


@given(st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40))
def test_text_records_round_trip(text):
    record = decode_records(enc.text_record(b"\xfd\x11", text)).records[0]
    assert isinstance(record, DataRecord) and record.value == text


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2080, 12, 31)))
def test_date_and_time_round_trip(ts):
    ts = ts.replace(second=0, microsecond=0)
    assert decode_records(enc.datetime_record(ts)).records[0].value == ts
    assert decode_records(enc.date_record(ts.date())).records[0].value == ts.date()


@given(
    st.integers(0, 99_999_999).map(lambda n: f"{n:08d}"),
    st.text(st.characters(min_codepoint=65, max_codepoint=90), min_size=3, max_size=3),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
)
def test_frames_and_headers_round_trip(ident, man, version, medium, access):
    data = enc.long_header(ident, man, version, medium, access, 0) + enc.int_record(b"\x13", 42)
    frame = decode_frame(enc.long_frame(0x08, 7, 0x72, data))
    t = decode_telegram(frame.ci, frame.data)
    h = t.header
    assert (h.identification, h.manufacturer, h.version, h.medium, h.access_number) == (
        ident,
        man,
        version,
        medium,
        access,
    )
    assert decode_manufacturer(enc.manufacturer_id(man)) == man


@settings(max_examples=400)
@given(st.binary(max_size=260))
def test_random_bytes_never_crash_the_record_decoder(payload):
    area = decode_records(payload)
    consumed = 0
    for record in area.records:
        assert isinstance(record, DataRecord | RecordError)
        consumed += len(record.raw)
    # Nothing disappears: records + fillers + special-function data account for every byte.
    end = len(payload) if area.special_dif_offset is None else area.special_dif_offset
    if area.special_dif_offset is not None:
        assert area.manufacturer_data == payload[end + 1 :]
    assert consumed <= end <= consumed + payload[:end].count(0x2F)


@settings(max_examples=300)
@given(st.sampled_from([0x72, 0x76, 0x7A, 0x73, 0x70, 0x51]), st.binary(max_size=260))
def test_random_telegrams_never_crash(ci, data):
    t = decode_telegram(ci, data)
    assert t.unsupported or t.header is not None or t.application_error is not None


@settings(max_examples=300)
@given(st.binary(min_size=12, max_size=240))
def test_random_user_data_in_a_valid_frame(data):
    raw = enc.long_frame(0x08, 1, 0x72, data)
    try:
        frame = decode_frame(raw)
    except FrameError:  # pragma: no cover - the frame is valid by construction
        raise
    decode_telegram(frame.ci, frame.data)
