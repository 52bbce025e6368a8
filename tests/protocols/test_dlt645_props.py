from hypothesis import given, settings, strategies as st

from protocols.errors import DecodeError
from protocols.dlt645 import (Control, Deframer, Frame, Garbage, Read, ReadFollowUp,
                              Write, EventClear, decode_frame, encode_frame, parse_reply,
                              parse_request, values)
from protocols.dlt645 import di as DI
from protocols.dlt645 import v1997
from protocols.errors import ProtocolError

frames = st.builds(
    Frame,
    st.binary(min_size=6, max_size=6),
    st.integers(0, 255),
    st.binary(max_size=255),
    st.integers(0, 4),
)


@given(frames)
def test_frame_round_trip(frame):
    raw = encode_frame(frame)
    back = decode_frame(raw)
    assert back == frame and back.preamble == frame.preamble


@given(st.binary(max_size=300))
def test_decode_frame_never_crashes(raw):
    try:
        decode_frame(raw)
    except DecodeError:
        pass


@given(st.binary(max_size=400), st.lists(st.integers(1, 40), max_size=30))
def test_deframer_never_crashes_and_accounts_for_every_byte(noise, cuts):
    d = Deframer(max_buffer=256)
    pos = 0
    items = []
    for c in cuts + [len(noise)]:
        d.feed(noise[pos:pos + c])
        items.extend(d)
        pos += c
    d.flush()
    items.extend(d)
    assert sum(len(i.raw) for i in items) + d.pending == len(noise)


@given(st.binary(max_size=80).filter(lambda b: 0x68 not in b), frames, st.integers(1, 16))
def test_frame_after_noise_is_recovered_whatever_the_chunking(noise, frame, step):
    raw = encode_frame(frame)
    data = noise + raw
    d = Deframer()
    got = []
    for i in range(0, len(data), step):
        d.feed(data[i:i + step])
        got.extend(x for x in d if isinstance(x, Frame))
    assert got == [frame]


@given(frames)
def test_apdu_parsers_give_typed_results_or_decode_errors(frame):
    for parse in (parse_request, parse_reply, v1997.parse_request_97, v1997.parse_reply_97):
        try:
            msg = parse(frame)
        except DecodeError:
            continue
        # replies decode their data with value(); a Write request's ``value`` is its raw bytes
        if callable(getattr(msg, "value", None)) and not getattr(msg, "more", False):
            try:
                msg.value()
            except ProtocolError:
                pass


@given(st.integers(0, 0xFFFFFFFF), st.binary(max_size=64))
def test_value_decoding_never_crashes(di, payload):
    try:
        DI.decode_value(di, payload)
    except ProtocolError:
        pass


@given(st.integers(-799999, 799999))
def test_signed_bcd_round_trip(n):
    raw = values.encode("XXXXXX.XX", n / 100.0, signed=True)
    assert values.decode("XXXXXX.XX", raw, signed=True) == n / 100.0


@given(st.integers(0, 99999999), st.sampled_from(["XXXXXX.XX", "XXXX.XXXX", "XXXXXXXX"]))
def test_unsigned_bcd_round_trip(n, fmt):
    v = n / (10 ** values.decimals(fmt))
    assert values.decode(fmt, values.encode(fmt, v)) == v


times = st.integers(946684800, 4102444799)   # 2000..2099, the years YY can carry


@settings(max_examples=200)
@given(st.integers(0, 0xFFFFFFFF), st.one_of(st.none(), st.integers(0, 99)), times)
def test_read_request_round_trip(di, blocks, start):
    req = Read(di, blocks, start if blocks is not None else None)
    back = parse_request(decode_frame(encode_frame(req.to_frame(b"\x01" * 6))))
    assert (back.di, back.blocks) == (di, blocks)
    if blocks is not None:
        assert back.start == start - start % 60


@given(st.sampled_from([0x1A, 0x1B, 0x1C, 0x2A, 0x2B, 0x3A, 0x3B]), times, st.binary(min_size=3, max_size=3),
       st.binary(min_size=4, max_size=4))
def test_control_round_trip(cmd, until, password, operator):
    req = Control(cmd, until, 0x02, password, operator)
    back = parse_request(decode_frame(encode_frame(req.to_frame(b"\x01" * 6))))
    assert (back.command, back.valid_until, back.password, back.operator) == (cmd, until, password, operator)


@given(st.integers(0, 0xFFFFFFFF), st.binary(max_size=30), st.integers(0, 255))
def test_write_follow_up_and_event_clear_round_trip(di, value, seq):
    for req in (Write(di, value), ReadFollowUp(di, seq), EventClear(di)):
        assert parse_request(decode_frame(encode_frame(req.to_frame(b"\x02" * 6)))) == req
