import pytest
from hypothesis import given, settings, strategies as st

from protocols.bcd import hex_to_bytes
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.gdw1376_2 import (DecodeError, EncodeError, Frame, decode_frame, down_info,
                                 encode_frame, up_info)
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.deframer import NEED_DATA, Deframer, Garbage
from protocols.gdw1376_2.frame import decode_fn, encode_fn
from tests.conftest import ROOT, load_toml
from tests.helpers import deframe

VECTORS = load_toml(ROOT / "tests/protocols/vectors/gdw1376_2/frames.toml")["frame"]
METER = bytes.fromhex("010000000000")
MASTER = bytes.fromhex("000000000000")


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector_decodes_and_reencodes(vec):
    raw = hex_to_bytes(vec["hex"])
    f = decode_frame(raw)
    assert (f.afn, f.fn, f.down, f.prm, f.comm) == (vec["afn"], vec["fn"], vec["down"], vec["prm"],
                                                      vec["comm"])
    assert f.info == hex_to_bytes(vec["info"])
    assert f.data == hex_to_bytes(vec["data"])
    assert isinstance(A.unit_of(f), A.ModuleInfoQuery)
    assert encode_frame(Frame(f.afn, f.fn, f.data, f.down, f.prm, f.comm, f.info)) == raw


def test_fn_encoding_follows_dt1_bit_and_dt2_group():
    assert encode_fn(1) == b"\x01\x00"
    assert encode_fn(8) == b"\x80\x00"
    assert encode_fn(9) == b"\x01\x01"
    assert encode_fn(101) == b"\x10\x0C"      # AFN05 F101 set centre-node time
    assert decode_fn(0x10, 0x0C) == 101
    with pytest.raises(DecodeError):
        decode_fn(0x03, 0)                  # two Fn bits: not one information class
    with pytest.raises(EncodeError):
        encode_fn(0)


def test_addresses_and_relays_round_trip_and_set_module_flag_and_level():
    relays = [bytes([k] * 6) for k in (3, 4)]
    unit = A.MonitorRequest(A.PROTO_645_2007, b"\x68\x01\x02", attached=[METER])
    raw = encode_frame(A.to_frame(unit, seq=9, src=MASTER, dst=METER, relays=relays))
    f = decode_frame(raw)
    assert f.info[0] & 0x04 and f.info[0] >> 4 == 2
    assert (f.src, f.relays, f.dst, f.seq) == (MASTER, tuple(relays), METER, 9)
    assert A.unit_of(f) == unit


def test_uplink_carries_no_relay_addresses():
    with pytest.raises(EncodeError):
        encode_frame(A.to_frame(A.MonitorReply(2, b"\x68"), src=METER, dst=MASTER,
                                relays=[METER]))


def test_strict_decode_names_the_field():
    raw = bytearray(hex_to_bytes(VECTORS[0]["hex"]))
    raw[-2] ^= 1
    with pytest.raises(DecodeError, match="checksum"):
        decode_frame(bytes(raw))
    with pytest.raises(DecodeError, match="L"):
        decode_frame(hex_to_bytes(VECTORS[0]["hex"])[:-1])
    # module flag set but no room for the addresses
    body = bytes([0x41, 0x04, 0, 0xFF, 0, 0, 0, 0x03, 0x01, 0x00])
    bad = b"\x68" + bytes([len(body) + 5, 0]) + body + bytes([sum(body) & 0xFF, 0x16])
    with pytest.raises(DecodeError) as e:
        decode_frame(bad)
    assert e.value.field == "A"


UNITS = [
    A.Confirm(0x00FF, 12), A.Deny(A.DENY_BUSY), A.ModuleInfoQuery(), A.ModuleInfo("XY", "AB", (9, 3, 24), 213),
    A.MasterAddressQuery(), A.MasterAddress(METER), A.SetMasterAddress(METER), A.SlaveCountQuery(),
    A.SlaveCount(12, 1024), A.SlaveInfoQuery(1, 10),
    A.SlaveInfo(2, [A.SlaveNode(METER, 3, 9, 2, 2), A.SlaveNode(MASTER, 1, 15, 1, 1)]),
    A.RouteStatusQuery(), A.RouteStatus(True, False, 10, 9, 4, 960, 5),
    A.AddSlaves([(METER, 2), (MASTER, 1)]), A.DeleteSlaves([METER]), A.RouteRestart(),
    A.RoutePause(), A.RouteResume(), A.StartBroadcast(2, b"\x68\x08"), A.Forward(2, b"\x68\x16"), A.ForwardReply(2, b"\x68"),
    A.MonitorRequest(2, b"\x68\x00", 1, [METER]), A.MonitorReply(2, b"\x68\x00\x16", 7),
    A.ConcurrentRequest(2, b"\x68" * 300), A.ConcurrentReply(2, b"\x16" * 3),
    A.ReportReadData(5, 2, b"\x68\x16", 3), A.ReportRouteChange(A.ROUTE_READ_DONE),
    A.ReportEvent(2, b"\x68\x16", 1), A.RouterRequest(1, METER, 5),
    A.RouterRequestAnswer(A.READ_GO, b"\x68\x16", 0, [METER]),
]


@pytest.mark.parametrize("unit", UNITS, ids=[type(u).__name__ for u in UNITS])
def test_every_unit_round_trips_through_a_frame(unit):
    f = decode_frame(encode_frame(A.to_frame(unit, seq=77)))
    assert f.seq == 77 and f.down == (not unit.UP)
    assert A.unit_of(f) == unit


def test_prm_marks_requests_and_module_reports_not_answers():
    assert A.to_frame(A.MonitorRequest(2, b"")).prm
    assert not A.to_frame(A.MonitorReply(2, b"")).prm
    assert A.to_frame(A.ReportReadData(1, 2, b"")).prm
    assert not A.to_frame(A.Confirm(), up=False).prm


def test_start_broadcast_layout():
    """05F3: control word (protocol type), L, then the frame; a request, so PRM is set."""
    f = A.to_frame(A.StartBroadcast(A.PROTO_645_2007, b"\x68\x99\x16"))
    assert (f.afn, f.fn, f.prm, f.data) == (0x05, 3, True, b"\x02\x03\x68\x99\x16")


def test_unknown_class_is_kept_as_bytes_not_an_error():
    u = A.unit_of(Frame(0x15, 3, b"\x01\x02"))
    assert isinstance(u, A.Unknown) and u.data == b"\x01\x02"


def test_carried_frame_length_must_match():
    with pytest.raises(DecodeError):
        A.MonitorReply.parse(b"\x00\x00\x02\x05\x68")


# --- stream -----------------------------------------------------------------------------------
def frames_of(chunks):
    return deframe(Deframer(), chunks)


GOOD = hex_to_bytes(VECTORS[0]["hex"])
READ = encode_frame(A.to_frame(A.MonitorReply(2, bytes(range(40))), src=METER, dst=MASTER))


@pytest.mark.parametrize("split", ["whole", "bytewise", "trailing"])
def test_deframer_whole_bytewise_and_trailing(split):
    data = GOOD + READ
    if split == "whole":
        chunks = [data]
    elif split == "bytewise":
        chunks = [bytes([b]) for b in data]
    else:
        chunks = [data + READ[:7]]
    items = frames_of(chunks)
    frames = [i for i in items if isinstance(i, Frame)]
    assert [f.raw for f in frames] == [GOOD, READ]
    if split == "trailing":
        assert isinstance(items[-1], Garbage) and items[-1].raw == READ[:7]


@pytest.mark.parametrize("noise", [b"\x00\x16\x68", b"\x68\x05\x00", GOOD[:-2] + b"\x00\x16",
                                   b"\x68\xFF\xFF" + b"\x00" * 20])
def test_deframer_skips_noise_and_resyncs(noise):
    items = frames_of([noise + READ + noise[:2] + GOOD])
    frames = [i.raw for i in items if isinstance(i, Frame)]
    assert frames == [READ, GOOD]
    skipped = sum(len(i.raw) for i in items if isinstance(i, Garbage))
    assert skipped + len(READ) + len(GOOD) == len(noise) + 2 + len(READ) + len(GOOD)


def test_deframer_reports_inner_decode_error_as_garbage():
    body = bytes([0x41, 0x04, 0, 0xFF, 0, 0, 0, 0x03, 0x01, 0x00])
    bad = b"\x68" + bytes([len(body) + 5, 0]) + body + bytes([sum(body) & 0xFF, 0x16])
    items = frames_of([bad + GOOD])
    assert isinstance(items[0], Garbage) and "A" in items[0].reason
    assert items[1].raw == GOOD


def test_deframer_needs_data_for_a_partial_frame():
    d = Deframer()
    d.feed(READ[:10])
    assert d.next() is NEED_DATA and d.pending == 10


# --- properties -------------------------------------------------------------------------------
addr6 = st.binary(min_size=6, max_size=6)


@st.composite
def frames(draw):
    down = draw(st.booleans())
    with_addr = draw(st.booleans())
    src = draw(addr6) if with_addr else None
    dst = draw(addr6) if with_addr else None
    relays = draw(st.lists(addr6, max_size=3)) if with_addr and down else ()
    info = down_info(seq=draw(st.integers(0, 255))) if down else up_info(
        phase=draw(st.integers(0, 7)), seq=draw(st.integers(0, 255)))
    return Frame(draw(st.integers(0, 255)), draw(st.integers(1, 248)),
                 draw(st.binary(max_size=300)), down, draw(st.booleans()),
                 draw(st.integers(0, 63)), info, src, relays, dst)


@settings(max_examples=300)
@given(frames())
def test_property_frame_round_trip(f):
    raw = encode_frame(f)
    g = decode_frame(raw)
    assert g == Frame(f.afn, f.fn, f.data, f.down, f.prm, f.comm, raw[4:10], f.src, f.relays, f.dst)
    assert encode_frame(g) == raw


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_property_decode_never_crashes(data):
    try:
        f = decode_frame(data)
    except ProtocolDecodeError:
        return
    try:
        A.unit_of(f)
    except ProtocolDecodeError:
        pass


@settings(max_examples=300)
@given(st.lists(st.one_of(st.binary(max_size=40), st.just(GOOD), st.just(READ)), max_size=8))
def test_property_deframer_never_crashes_and_keeps_every_byte(chunks):
    items = frames_of(chunks)
    assert sum(len(i.raw) for i in items) == sum(len(c) for c in chunks)


@settings(max_examples=300)
@given(st.integers(0, 255), st.integers(1, 248), st.booleans(), st.binary(max_size=80))
def test_property_every_unit_parser_never_crashes(afn, fn, up, data):
    try:
        A.unit_of(Frame(afn, fn, data, down=not up))
    except ProtocolDecodeError:
        pass
