"""The M-Bus master against a scripted transport (no sockets): FCB sequence, retries, stale
answers from another address, selection outcomes."""

from __future__ import annotations

import threading

import pytest
from mbus_support import frame_bytes

from meterhub.collectors.mbus.addressing import SelectionMask
from meterhub.collectors.mbus.frames import LongFrame, decode_frame, encode_frame
from meterhub.collectors.mbus.master import MbusError, MbusMaster, SelectOutcome

HEADER = bytes.fromhex("78563412 2D2C 01 07 00 00 0000")


def rsp(address: int, records: bytes = bytes.fromhex("04 13 01 00 00 00")) -> bytes:
    return encode_frame(LongFrame(0x08, address, 0x72, HEADER + records))


class Scripted:
    """Answers requests from a list; records what was sent."""

    def __init__(self, answers: list[bytes]):
        self.answers = list(answers)
        self.sent: list[bytes] = []
        self.lock = threading.RLock()

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def receive(self, request_len: int = 0, check_trailing: bool = False) -> bytes:
        return self.answers.pop(0) if self.answers else b""


def test_fcb_sequence_and_continuation():
    t = Scripted([b"\xe5", rsp(5, bytes.fromhex("04 13 01 00 00 00 1F")), rsp(5)])
    out = MbusMaster(t).read(5)
    assert len(out.telegrams) == 2
    assert [decode_frame(x).control for x in t.sent] == [0x40, 0x7B, 0x5B]  # SND_NKE, FCB 1, FCB 0


def test_answer_from_another_address_is_not_taken():
    t = Scripted([b"\xe5", rsp(9), rsp(5)])
    out = MbusMaster(t).read(5)
    assert out.retries == 1 and decode_frame(out.frames[0]).address == 5
    assert decode_frame(t.sent[1]).control == decode_frame(t.sent[2]).control  # same FCB on retry


def test_garbage_then_timeouts_raise_with_the_last_problem():
    t = Scripted([b"\xe5", b"\x68\x01\x02", b"", b""])
    with pytest.raises(MbusError, match="address 5: REQ_UD2 failed after 3 tries: no answer") as err:
        MbusMaster(t).read(5)
    assert err.value.kind == "timeout"


def test_selection_outcomes():
    assert MbusMaster(Scripted([b"\xe5"])).select(SelectionMask("12345678")) is SelectOutcome.SINGLE
    assert MbusMaster(Scripted([b""])).select(SelectionMask()) is SelectOutcome.NONE
    assert MbusMaster(Scripted([b"\xe5\x73"])).select(SelectionMask()) is SelectOutcome.COLLISION
    assert MbusMaster(Scripted([b"\xc4"])).select(SelectionMask()) is SelectOutcome.COLLISION
    sent = Scripted([b"\xe5"])
    MbusMaster(sent).select(SelectionMask("1234FFFF", manufacturer="KAM", medium=4))
    assert sent.sent[0] == encode_frame(LongFrame(0x53, 0xFD, 0x52, bytes.fromhex("FFFF3412 2D2C FF 04")))


def test_address_range_is_checked():
    with pytest.raises(ValueError, match="out of range"):
        MbusMaster(Scripted([])).read(251)


def test_selection_mask_text_forms():
    mask = SelectionMask.parse("12345678 2C2D 08 04")  # manufacturer as its 16-bit value (KAM = 0x2C2D)
    assert (mask.identification, mask.manufacturer, mask.version, mask.medium) == ("12345678", "KAM", 8, 4)
    assert str(SelectionMask.parse("1234ffff")) == "1234FFFFFFFFFFFF"
    with pytest.raises(ValueError, match="8 characters"):
        SelectionMask("1234567A")


def test_read_out_continues_through_an_elvaco_telegram():
    # The real Elvaco CMa10 answer (address 0x0B) has three plain-text records "%RH" with the text
    # right after the VIF and ends with DIF 1F: the master must ask for the next telegram.
    elvaco = frame_bytes("ELV-Elvaco-CMa10")
    t = Scripted([b"\xe5", elvaco, rsp(11)])
    out = MbusMaster(t).read(11)
    assert len(out.telegrams) == 2 and out.telegrams[0].more_records_follow
    assert [r.unit for r in out.telegrams[0].data_records if r.quantity == "plain_text"] == ["%RH"] * 3
    assert [decode_frame(x).control for x in t.sent] == [0x40, 0x7B, 0x5B]  # SND_NKE, FCB 1, FCB 0
