"""EN 13757-2 frames: building, parsing, checksum and length checks, fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.collectors.mbus.frames import (
    AckFrame,
    FrameError,
    LongFrame,
    ShortFrame,
    decode_frame,
    encode_frame,
    expected_length,
    is_rsp_ud,
    req_ud2,
    snd_nke,
    snd_ud,
)


def test_request_frames_match_en_13757_2_examples():
    assert snd_nke(5) == bytes.fromhex("10 40 05 45 16")
    assert req_ud2(5, fcb=False) == bytes.fromhex("10 5B 05 60 16")
    assert req_ud2(5, fcb=True) == bytes.fromhex("10 7B 05 80 16")
    # selection of secondary address 12345678, any manufacturer/version/medium
    sel = snd_ud(0xFD, 0x52, bytes.fromhex("78563412FFFFFFFF"))
    # checksum: 53+FD+52+78+56+34+12+4·FF = 0x6B2 → B2
    assert sel == bytes.fromhex("68 0B 0B 68 53 FD 52 78 56 34 12 FF FF FF FF B2 16")


def test_decode_each_format():
    assert decode_frame(b"\xe5") == AckFrame()
    assert decode_frame(bytes.fromhex("10 7B 05 80 16")) == ShortFrame(0x7B, 5)
    frame = decode_frame(encode_frame(LongFrame(0x08, 1, 0x72, b"\x01\x02")))
    assert frame == LongFrame(0x08, 1, 0x72, b"\x01\x02") and is_rsp_ud(frame)
    assert decode_frame(encode_frame(LongFrame(0x53, 0xFD, 0x52))) == LongFrame(0x53, 0xFD, 0x52, b"")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("10 7B 05 81 16", "checksum mismatch"),
        ("10 7B 05 80 17", "stop byte"),
        ("68 04 05 68 08 01 72 00 7B 16", "length fields differ"),
        ("68 04 04 68 08 01 72 00 7B 16 16", "wrong frame length"),
        ("68 04 04 68 08 01 72 00 7B", "wrong frame length"),
        ("68 04 04 69 08 01 72 00 7B 16", "second start byte"),
        ("68 02 02 68 08 01 09 16", "below the minimum"),
        ("AA", "unknown start byte"),
        ("68 04", "truncated"),
        ("", "empty"),
    ],
)
def test_corrupt_frames_name_the_failed_check(raw, message):
    with pytest.raises(FrameError, match=message):
        decode_frame(bytes.fromhex(raw))


def test_expected_length_from_prefix():
    assert expected_length(b"") is None
    assert expected_length(b"\xe5") == 1
    assert expected_length(b"\x10") == 5
    assert expected_length(b"\x68\x10") is None
    assert expected_length(b"\x68\x10\x10") == 0x16


@given(
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=252),
)
def test_long_frame_round_trip(control, address, ci, data):
    frame = LongFrame(control, address, ci, data)
    assert decode_frame(encode_frame(frame)) == frame


@given(st.integers(0, 255), st.integers(0, 255))
def test_short_frame_round_trip(control, address):
    assert decode_frame(encode_frame(ShortFrame(control, address))) == ShortFrame(control, address)


@given(st.binary(max_size=300))
def test_random_bytes_never_crash_the_frame_parser(raw):
    with contextlib.suppress(FrameError):
        decode_frame(raw)


@given(st.binary(min_size=1, max_size=255), st.integers(0, 254), st.integers(1, 255))
def test_any_single_byte_corruption_is_detected(data, index, flip):
    raw = bytearray(encode_frame(LongFrame(0x08, 1, 0x72, data)))
    index %= len(raw)
    raw[index] ^= flip
    with pytest.raises(FrameError):
        decode_frame(bytes(raw))
