"""Register decoding/encoding: every type × byte order × word order, against known words and the
simulator's independent encoder; hypothesis round trips."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterhub.collectors.modbus.codec import (
    DecodeError,
    decode,
    encode,
    scale_value,
    shortest_float32,
)
from meterhub.collectors.modbus.profile import DataType, Encoding, Order
from meterhub.simulators.modbus_encoding import encode_words

ORDERS = [(b, w) for b in Order for w in Order]


def enc(kind: DataType, byte: Order = Order.BIG, word: Order = Order.BIG) -> Encoding:
    return Encoding(type=kind, byte_order=byte, word_order=word)


@pytest.mark.parametrize(
    ("byte", "word", "words"),
    [
        (Order.BIG, Order.BIG, [0x4366, 0x0000]),  # ABCD
        (Order.BIG, Order.LITTLE, [0x0000, 0x4366]),  # CDAB
        (Order.LITTLE, Order.BIG, [0x6643, 0x0000]),  # BADC
        (Order.LITTLE, Order.LITTLE, [0x0000, 0x6643]),  # DCBA
    ],
)
def test_float32_230_volts_in_all_four_layouts(byte: Order, word: Order, words: list[int]) -> None:
    assert decode(words, enc(DataType.FLOAT32, byte, word)) == 230.0
    assert encode(230.0, enc(DataType.FLOAT32, byte, word)) == words


def test_known_integer_vectors() -> None:
    assert decode([0xFFFF], enc(DataType.INT16)) == -1
    assert decode([0xFFFF], enc(DataType.UINT16)) == 65535
    assert decode([0x0001, 0x0002], enc(DataType.UINT32)) == 0x00010002
    assert decode([0x0002, 0x0001], enc(DataType.UINT32, word=Order.LITTLE)) == 0x00010002
    assert decode([0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE], enc(DataType.INT64)) == -2
    assert decode([0x0000, 0x0000, 0x0001, 0x0000], enc(DataType.UINT64)) == 65536
    assert decode([0x1234], enc(DataType.BCD16)) == 1234
    assert decode([0x0012, 0x3456], enc(DataType.BCD32)) == 123456
    assert decode([0x3456, 0x0012], enc(DataType.BCD32, word=Order.LITTLE)) == 123456


def test_bcd_rejects_non_decimal_nibble() -> None:
    with pytest.raises(DecodeError, match="BCD digit 0xA"):
        decode([0x12A4], enc(DataType.BCD16))


def test_wrong_register_count_is_an_error() -> None:
    with pytest.raises(DecodeError, match="needs 2 registers, got 1"):
        decode([1], enc(DataType.FLOAT32))


def test_encode_rejects_out_of_range_and_fractions() -> None:
    with pytest.raises(ValueError, match="out of range"):
        encode(70000, enc(DataType.UINT16))
    with pytest.raises(ValueError, match="whole numbers"):
        encode(1.5, enc(DataType.INT32))
    with pytest.raises(ValueError, match="more than 4 digits"):
        encode(12345, enc(DataType.BCD16))


_INT_RANGES = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
    DataType.BCD16: (0, 9999),
    DataType.BCD32: (0, 99_999_999),
}


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[Encoding, int | float]:
    kind = draw(st.sampled_from(list(DataType)))
    byte, word = draw(st.sampled_from(ORDERS))
    if kind is DataType.FLOAT32:
        value: int | float = draw(st.floats(width=32, allow_nan=False))
    elif kind is DataType.FLOAT64:
        value = draw(st.floats(allow_nan=False))
    else:
        low, high = _INT_RANGES[kind]
        value = draw(st.integers(low, high))
    return enc(kind, byte, word), value


@given(typed_values())
def test_round_trip_every_type_and_order(case: tuple[Encoding, int | float]) -> None:
    encoding, value = case
    words = encode(value, encoding)
    assert len(words) == encoding.register_count
    assert all(0 <= w <= 0xFFFF for w in words)
    assert decode(words, encoding) == value


@given(typed_values())
def test_simulator_encoder_agrees_with_collector_decoder(case: tuple[Encoding, int | float]) -> None:
    """Two independent implementations: the simulator's encoder and the collector's decoder."""
    encoding, value = case
    words = encode_words(value, encoding.type, encoding.byte_order, encoding.word_order)
    assert decode(words, encoding) == value
    assert words == encode(value, encoding)


@given(st.sampled_from(list(DataType)), st.sampled_from(ORDERS), st.data())
def test_any_words_decode_or_raise_decode_error(
    kind: DataType, orders: tuple[Order, Order], data: st.DataObject
) -> None:
    encoding = enc(kind, *orders)
    words = data.draw(
        st.lists(st.integers(0, 0xFFFF), min_size=encoding.register_count, max_size=encoding.register_count)
    )
    try:
        value = decode(words, encoding)
    except DecodeError:
        assert kind in (DataType.BCD16, DataType.BCD32)
        return
    if isinstance(value, float) and not math.isnan(value):
        assert encode(value, encoding) == words


def test_scale_value_is_exact_for_integers() -> None:
    assert scale_value(12345, 0.1) == 1234.5
    assert scale_value(1234567, 0.001, 10.0) == 12345.67
    assert scale_value(7, 1.0, 1.0, 100.5) == 107.5


def test_shortest_float32_prints_what_the_meter_meant() -> None:
    raw = struct.unpack(">f", struct.pack(">f", 230.1))[0]
    assert raw != 230.1
    assert shortest_float32(raw) == 230.1
    assert shortest_float32(float("inf")) == float("inf")
