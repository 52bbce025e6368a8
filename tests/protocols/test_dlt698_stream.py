import pytest

from protocols.bcd import hex_to_bytes
from protocols.dlt645 import Deframer as Deframer645
from protocols.dlt645 import Frame as Frame645
from protocols.dlt698 import Deframer, Frame, Garbage, decode_frame
from protocols.gdw1376_1.deframer import Deframer as Deframer3761
from protocols.gdw1376_2.deframer import Deframer as Deframer3762

# golden frames (sources in vectors/dlt698/frames.toml and vectors/dlt645/frames.toml)
GET = hex_to_bytes("68 17 00 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 07 16")
REPLY = hex_to_bytes("68 21 00 C3 05 00 00 00 00 00 00 00 1D DB 85 01 00 40 00 02 00 01 1C 07 EA "
                     "0A 07 0E 10 1A 00 00 E4 C5 16")
F645 = hex_to_bytes("68 01 72 00 72 00 00 68 91 08 33 33 34 33 33 33 33 33 E7 16")
F3762 = hex_to_bytes("68 0F 00 41 01 00 FF 00 00 00 03 01 00 45 16")
F3761 = hex_to_bytes("68 32 00 32 00 68 C9 71 01 22 08 00 02 78 00 00 01 00 E0 16")


def collect(chunks, deframer=Deframer, **kw):
    d = deframer(**kw)
    out = []
    for c in chunks:
        d.feed(c)
        out.extend(d)
    return out, d


def frames_of(items, cls=Frame):
    return [i for i in items if isinstance(i, cls)]


def tr(data, expected):
    """Whole, byte by byte, and with trailing bytes (h11's tr())."""
    whole, _ = collect([data])
    assert frames_of(whole) == expected
    bytewise, _ = collect([data[i:i + 1] for i in range(len(data))])
    assert frames_of(bytewise) == expected
    trailing, d = collect([data + GET[:9]])
    assert frames_of(trailing) == expected
    assert d.pending == 9


def test_tr_single_and_back_to_back_frames():
    tr(GET, [decode_frame(GET)])
    tr(b"\xFE" * 4 + GET + REPLY, [decode_frame(GET), decode_frame(REPLY)])


GARBLE = [
    ("noise_before", b"\x00\x11\x22" + REPLY, 1),
    ("noise_after", REPLY + b"\x00\x11", 1),
    ("noise_between", GET + b"\x55\x16\x68\x68" + REPLY, 2),
    ("bad_fcs_then_good", GET[:-3] + b"\x00\x00\x16" + REPLY, 1),
    ("bad_hcs_then_good", GET[:12] + b"\x00\x00" + GET[14:] + REPLY, 1),
    ("truncated_then_good", GET[:15] + REPLY, 1),
    ("fe_preambles", b"\xFE" * 4 + GET + b"\xFE" * 2 + REPLY, 2),
    ("excess_fe", b"\xFE" * 9 + GET, 1),
    ("false_68s", b"\x68\x68\x68" + REPLY, 1),
    ("length_runs_past", b"\x68\xFF\x3F\x43\x05" + GET, 1),
]


@pytest.mark.parametrize("name,data,n", GARBLE, ids=[g[0] for g in GARBLE])
def test_garble_table_resyncs(name, data, n):
    for chunks in ([data], [data[i:i + 1] for i in range(len(data))], [data[:7], data[7:]]):
        items, d = collect(chunks)
        d.flush()
        items.extend(d)
        assert len(frames_of(items)) == n
        skipped = sum(len(i.raw) for i in items if isinstance(i, Garbage))
        assert skipped + sum(len(f.raw) for f in frames_of(items)) == len(data)


def test_gap_makes_a_partial_frame_garbage():
    d = Deframer(gap=0.5)
    d.feed(GET[:10], now=0.0)
    assert list(d) == []
    d.feed(REPLY, now=2.0)
    items = list(d)
    assert isinstance(items[0], Garbage) and items[0].raw == GET[:10]
    assert frames_of(items) == [decode_frame(REPLY)]


def test_buffer_cap_turns_a_flood_into_garbage():
    items, d = collect([b"\x68\xFF\x3F\x43\x0F" + b"\x00" * 300], max_buffer=256)
    assert all(isinstance(i, Garbage) for i in items) and d.pending < 256


def test_mixed_protocols_on_one_stream_do_not_confuse_any_deframer():
    stream = (b"\xFE\xFE" + F645 + GET + F3762 + b"\x00" + REPLY + F3761 + F645 + b"\xFE" * 4
              + GET)
    for chunks in ([stream], [stream[i:i + 1] for i in range(len(stream))]):
        items, d = collect(chunks)
        d.flush()
        items.extend(d)
        assert frames_of(items) == [decode_frame(GET), decode_frame(REPLY), decode_frame(GET)]
        assert b"".join(i.raw for i in items) == stream          # nothing lost, nothing doubled
        mixed, d645 = collect(chunks, Deframer645)
        d645.flush()
        mixed.extend(d645)
        assert len(frames_of(mixed, Frame645)) == 2
        for other in (Deframer3762, Deframer3761):
            found, dd = collect(chunks, other)
            dd.flush()
            found.extend(dd)
            assert len([i for i in found if not isinstance(i, Garbage)]) == 1
