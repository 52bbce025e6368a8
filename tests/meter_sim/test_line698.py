"""A line (or bus) carrying 645 and 698 frames at once: one deframer finds both, garbage
resyncs, and the bus gives each frame to the meters that speak its protocol."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.bcd import hex_to_bytes
from protocols.dlt645 import Frame as Frame645
from protocols.dlt645 import Read, encode_frame as encode645
from protocols.dlt645.frame import decode_frame as decode645
from protocols.dlt698 import OAD, Frame, GetNormal, decode_apdu, decode_frame, encode_frame, request_frame
from meter_sim.population import DEFAULT_EPOCH, build_meters, build_population
from meter_sim.serve.bus import MeterBus
from meter_sim.serve.line import Garbage, LineDeframer

# golden frames (sources in tests/protocols/vectors/dlt698/frames.toml and dlt645/frames.toml)
GET698 = hex_to_bytes("68 17 00 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 07 16")
F645 = hex_to_bytes("68 01 72 00 72 00 00 68 91 08 33 33 34 33 33 33 33 33 E7 16")
F3762 = hex_to_bytes("68 0F 00 41 01 00 FF 00 00 00 03 01 00 45 16")


def collect(chunks):
    d = LineDeframer()
    out = []
    for c in chunks:
        d.feed(c)
        out.extend(d)
    return out, d


def kinds(items):
    return [("698" if isinstance(i, Frame) else "645" if isinstance(i, Frame645) else "garbage")
            for i in items]


def tr(data, expected):
    """Whole, byte by byte, and with trailing bytes (h11's tr())."""
    for chunks in ([data], [data[i:i + 1] for i in range(len(data))], [data + GET698[:9]]):
        items, d = collect(chunks)
        assert [k for k in kinds(items) if k != "garbage"] == expected
    assert d.pending == 9


def test_both_codecs_on_one_line():
    tr(GET698 + F645, ["698", "645"])
    tr(b"\xFE" * 4 + F645 + b"\xFE\xFE" + GET698 + F645, ["645", "698", "645"])


@pytest.mark.parametrize("noise", [b"\x00", b"\x68", b"\x16\x68\x16", F3762, GET698[:7], F645[:9],
                                   b"\xFE" * 6])
def test_garbage_between_frames_is_skipped(noise):
    items, _ = collect([F645 + noise + GET698 + noise + F645])
    assert kinds(items).count("698") == 1 and kinds(items).count("645") == 2
    assert b"".join(i.raw for i in items) == F645 + noise + GET698 + noise + F645


@settings(max_examples=200)
@given(st.lists(st.sampled_from([GET698, F645, b"\x68", b"\x00\x16", F3762]), max_size=8),
       st.integers(1, 9))
def test_never_loses_a_byte(parts, step):
    data = b"".join(parts)
    d = LineDeframer()
    got = []
    for i in range(0, len(data), step):
        d.feed(data[i:i + step])
        got.extend(d)
    d.flush()
    got.extend(d)
    assert b"".join(i.raw for i in got) == data
    assert kinds(got).count("698") >= parts.count(GET698) and kinds(got).count("645") >= parts.count(F645)


def test_a_mixed_population_is_seeded_and_leaves_645_meters_as_they_were():
    plain = build_meters(60, seed=5)
    mixed = build_meters(60, seed=5, protocol_698_share=0.4)
    again = build_meters(60, seed=5, protocol_698_share=0.4)
    assert [m.protocol for m in mixed] == [m.protocol for m in again]
    assert 12 <= sum(m.protocol == 698 for m in mixed) <= 36
    t = DEFAULT_EPOCH + 86400
    for a, b in zip(plain, mixed):
        assert a.energy(t) == b.energy(t) and a.reply_delay == b.reply_delay
        assert b.protocol == 698 or b.protocol == a.protocol


def test_the_bus_gives_each_frame_to_the_meters_that_speak_it():
    meters = build_population(6, seed=2, protocol_698_share=0.5)
    bus = MeterBus(meters)
    t = DEFAULT_EPOCH + 86400
    for m in meters:
        ask645 = encode645(Read(0x00010000).to_frame(m.addr))
        ask698 = encode_frame(request_frame(GetNormal(OAD(0x0010, 2)), m.addr))
        r645, _ = bus.handle(ask645, t)
        r698, _ = bus.handle(ask698, t)
        if m.protocol == 698:
            assert r645 is None and decode_apdu(decode_frame(r698).data).result.data is not None
        else:
            assert r698 is None and decode645(r645).addr == m.addr
    wild = request_frame(GetNormal(OAD(0x4001, 2)), b"\xAA" * 6)
    wild.kind = 1
    reply, _ = bus.handle(encode_frame(wild), t)
    assert reply is not None and bus.collisions == (1 if sum(m.protocol == 698 for m in meters) > 1 else 0)


def test_faults_apply_to_698_meters_too():
    import random
    from meter_sim.faults import Fault, FaultyMeter
    m = build_meters(1, seed=9, protocol_698_share=1.0)[0]
    t = DEFAULT_EPOCH + 86400
    wrong = FaultyMeter(m, [Fault("wrong", t - 10, t + 10, p=1.0)], random.Random(1))
    ask = encode_frame(request_frame(GetNormal(OAD(0x4001, 2)), m.addr))
    reply = decode_frame(wrong.handle(ask, t))
    assert reply.addr == bytes([(m.addr[0] + 1) & 0xFF]) + m.addr[1:]
    dead = FaultyMeter(m, [Fault("dead", t - 10, t + 10)], random.Random(1))
    assert dead.handle(ask, t) is None and dead.handle(ask, t + 20) is not None
