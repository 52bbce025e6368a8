import pytest

from protocols.bcd import hex_to_bytes
from protocols.dlt645 import Deframer, Frame, Garbage, NEED_DATA, address, decode_frame, encode_frame
from protocols.dlt645 import di as DI

READ = hex_to_bytes("68 AA AA AA AA AA AA 68 11 04 33 33 34 33 AE 16")
REPLY = hex_to_bytes("68 01 72 00 72 00 00 68 91 08 33 33 34 33 33 33 33 33 E7 16")


def collect(chunks, **kw):
    d = Deframer(**kw)
    out = []
    for c in chunks:
        d.feed(c)
        out.extend(d)
    return out, d


def frames_of(items):
    return [i for i in items if isinstance(i, Frame)]


def tr(data, expected_frames):
    """Whole, byte by byte, and with trailing bytes (h11's tr())."""
    whole, _ = collect([data])
    assert frames_of(whole) == expected_frames
    bytewise, _ = collect([data[i:i + 1] for i in range(len(data))])
    assert frames_of(bytewise) == expected_frames
    trailing, d = collect([data + READ[:5]])
    assert frames_of(trailing) == expected_frames
    assert d.pending == 5


def test_tr_single_and_back_to_back_frames():
    tr(READ, [decode_frame(READ)])
    tr(b"\xFE\xFE\xFE\xFE" + READ + REPLY, [decode_frame(READ), decode_frame(REPLY)])


GARBLE = [
    ("noise_before", b"\x00\x11\x22" + REPLY, 1),
    ("noise_after", REPLY + b"\x00\x11", 1),
    ("noise_between", READ + b"\x55\x16\x68\x68" + REPLY, 2),
    ("bad_cs_then_good", READ[:-2] + b"\x00\x16" + REPLY, 1),
    ("truncated_then_good", READ[:9] + REPLY, 1),
    ("fe_preambles", b"\xFE" * 4 + READ + b"\xFE" * 2 + REPLY, 2),
    ("excess_fe", b"\xFE" * 9 + READ, 1),
    ("false_68s", b"\x68\x68\x68" + REPLY, 1),
    ("length_runs_past", b"\x68\x00\x00\x00\x00\x00\x00\x68\x11\xFF" + READ, 1),
]


@pytest.mark.parametrize("name,data,n", GARBLE, ids=[g[0] for g in GARBLE])
def test_garble_table_resyncs(name, data, n):
    for chunks in ([data], [data[i:i + 1] for i in range(len(data))], [data[:7], data[7:]]):
        items, d = collect(chunks)
        d.flush()
        items.extend(d)
        assert len(frames_of(items)) == n
        skipped = sum(len(i.raw) for i in items if isinstance(i, Garbage))
        kept = sum(len(i.raw) for i in frames_of(items))
        assert skipped + kept == len(data)      # every byte accounted for, nothing lost


def test_garbage_is_reported_before_the_frame_with_a_reason():
    items, _ = collect([b"\x01\x02" + REPLY])
    assert isinstance(items[0], Garbage) and items[0].raw == b"\x01\x02"
    assert items[0].reason == "noise"
    assert isinstance(items[1], Frame)


def test_inter_byte_gap_makes_a_partial_frame_garbage():
    d = Deframer(gap=0.5)
    d.feed(READ[:8], now=0.0)
    assert d.next() is NEED_DATA
    d.feed(REPLY[:3], now=2.0)
    item = d.next()
    assert isinstance(item, Garbage) and item.reason == "inter-byte gap expired"
    d.feed(REPLY[3:], now=2.1)
    assert d.next() == decode_frame(REPLY)


def test_flood_without_frames_hits_the_byte_cap():
    d = Deframer(max_buffer=64)
    d.feed(b"\x68" + b"\x00" * 6 + b"\x68\x11\xFF" + b"\x00" * 100)
    items = list(d)
    assert items and all(isinstance(i, Garbage) for i in items)
    assert d.pending <= 64


def test_frame_longer_than_one_read_size():
    f = Frame(address("000000000001"), 0xB1, DI.to_bytes(0x06100601) + bytes(190))
    raw = encode_frame(f)
    tr(raw, [f])
