"""The shared 68H hunter (protocols/stream.py) for all three codecs: a whole frame with a wrong
checksum is reported with both sums, and a peer dripping a long frame byte by byte costs each
byte a bounded number of structural checks (the hunt resumes; it does not rescan)."""
import pytest

from protocols.dlt645.deframer import Deframer as Deframer645
from protocols.gdw1376_1.deframer import Deframer as Deframer3761
from protocols.gdw1376_2.deframer import Deframer as Deframer3762
from protocols.stream import NEED_DATA, Garbage

WRONG_SUM = [   # PROTOCOLS.md sample frames ✔ with the checksum byte raised by one
    (Deframer645, "68 01 72 00 72 00 00 68 91 08 33 33 34 33 33 33 33 33 E8 16", 0xE7, 0xE8),
    (Deframer3762, "68 0F 00 41 01 00 FF 00 00 00 03 01 00 46 16", 0x45, 0x46),
    (Deframer3761, "68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E1 16", 0xE0, 0xE1),
]


@pytest.mark.parametrize("cls,hexframe,expected,got", WRONG_SUM,
                         ids=["645", "1376.2", "1376.1"])
def test_a_whole_frame_with_a_wrong_checksum_says_so(cls, hexframe, expected, got):
    raw = bytes.fromhex(hexframe.replace(" ", ""))
    reason = "checksum: expected 0x%02X, got 0x%02X" % (expected, got)
    for flush in (True, False):                  # at the stream's end, and followed by more
        d = cls(max_buffer=len(raw) + 64)
        d.feed(raw if flush else raw + b"\x00")
        if flush:
            d.flush()
        item = d.next()
        assert isinstance(item, Garbage) and item.reason == reason and item.raw[:len(raw)] == raw


class Counting(Deframer3761):
    checks = 0

    def _check(self, buf, i):
        Counting.checks += 1
        return Deframer3761._check(self, buf, i)


@pytest.mark.parametrize("filler", [b"\x68", bytes.fromhex("68FEFFFEFF")],
                         ids=["68 bytes", "more headers"])
def test_a_dripped_candidate_costs_each_byte_a_bounded_number_of_checks(filler):
    head = bytes.fromhex("68FEFFFEFF68")          # a 1376.1 header promising 16383 bytes
    data = head + filler * (6000 // len(filler))
    d = Counting(max_buffer=70000)
    Counting.checks = 0
    for k in range(len(data)):
        d.feed(data[k:k + 1])
        while d.next() is not NEED_DATA:
            pass
    # a constant per byte: the candidate itself, the new position, and the few positions
    # still short of a header (re-checked as bytes come); a rescan would be ~len/2 per byte
    assert Counting.checks <= 12 * len(data), Counting.checks


def test_a_frame_after_a_dripped_truncated_candidate_still_comes_out():
    login = bytes.fromhex("683200320068C97101220800027800000100E016")
    d = Deframer3761(max_buffer=70000)
    items = []
    for b in bytes.fromhex("68FEFFFEFF68") + b"\x00" * 50 + login:
        d.feed(bytes([b]))
        items.extend(d)
    assert items[-1].raw == login and isinstance(items[0], Garbage)
    assert sum(len(i.raw) for i in items) == 6 + 50 + len(login)
