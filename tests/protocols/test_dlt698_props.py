from hypothesis import given, settings, strategies as st

from protocols.dlt698 import (OAD, OMD, ActionNormal, ActionNormalReply, Data, DateTime,
                              DecodeError, Deframer, Frame, GetList, GetListReply, GetNormal,
                              GetRecord, GetRecordReply, RecordResult, Result, RSD, ReportList,
                              SecurityRequest, SetNormal, decode_apdu, decode_data, decode_frame,
                              encode_data, encode_frame)
from protocols.dlt698 import connect as C
from protocols.dlt698 import data as D
from protocols.dlt698 import segment as S
from protocols.dlt698.frame import control

INTS = {D.DOUBLE_LONG: (-2**31, 2**31 - 1), D.DOUBLE_LONG_UNSIGNED: (0, 2**32 - 1),
        D.INTEGER: (-128, 127), D.LONG: (-2**15, 2**15 - 1), D.UNSIGNED: (0, 255),
        D.LONG_UNSIGNED: (0, 65535), D.LONG64: (-2**63, 2**63 - 1),
        D.LONG64_UNSIGNED: (0, 2**64 - 1), D.ENUM: (0, 255)}
oads = st.builds(OAD, st.integers(0, 0xFFFF), st.integers(0, 31), st.integers(0, 255),
                 st.integers(0, 7))
times = st.builds(DateTime, st.integers(0, 9999), st.integers(1, 12), st.integers(1, 31),
                  st.integers(0, 23), st.integers(0, 59), st.integers(0, 59))
leaf = st.one_of(
    st.just(Data(D.NULL)),
    st.booleans().map(lambda b: Data(D.BOOL, b)),
    *[st.integers(lo, hi).map(lambda v, t=t: Data(t, v)) for t, (lo, hi) in INTS.items()],
    st.binary(max_size=300).map(lambda b: Data(D.OCTET_STRING, b)),
    st.text(alphabet="abcXYZ019 -", max_size=20).map(lambda s: Data(D.VISIBLE_STRING, s)),
    st.binary(max_size=4).map(lambda b: Data(D.BIT_STRING, (len(b) * 8, b))),
    st.floats(allow_nan=False, width=32).map(lambda f: Data(D.FLOAT32, f)),
    times.map(lambda t: Data(D.DATE_TIME_S, t)),
    oads.map(lambda o: Data(D.T_OAD, o)),
)
datas = st.recursive(leaf, lambda kids: st.lists(kids, max_size=5).flatmap(
    lambda items: st.sampled_from([Data(D.ARRAY, items), Data(D.STRUCTURE, items)])),
    max_leaves=20)
piids = st.integers(0, 255)
associations = st.builds(C.Association, st.integers(0, 0xFFFF), st.binary(min_size=8, max_size=8),
                         st.binary(min_size=16, max_size=16), st.integers(0, 0xFFFF),
                         st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 0xFFFF),
                         st.integers(0, 2**32 - 1))
apdus = st.one_of(
    st.builds(GetNormal, oads, piid=piids),
    st.builds(GetList, st.lists(oads, max_size=8), piid=piids),
    st.builds(GetListReply, st.lists(st.builds(Result, oads, datas), max_size=4), piid=piids),
    st.builds(SetNormal, oads, datas, piid=piids),
    st.builds(ActionNormal, st.builds(OMD, st.integers(0, 0xFFFF), st.integers(0, 255)), datas),
    st.builds(ActionNormalReply, st.builds(OMD, st.integers(0, 0xFFFF), st.integers(0, 255)),
              st.integers(0, 255), st.one_of(st.none(), datas)),
    st.builds(GetRecord, oads, st.builds(RSD, st.just(9), st.tuples(st.integers(0, 255))),
              st.lists(oads, max_size=4)),
    st.builds(ReportList, st.lists(st.builds(Result, oads, st.none(), st.integers(0, 255)),
                                   max_size=3)),
    st.builds(SecurityRequest, st.binary(max_size=200), st.booleans(), st.just(1),
              st.binary(min_size=16, max_size=16)),
    st.builds(C.ConnectRequest, associations, st.integers(0, 3),
              st.text(alphabet="0123456789", max_size=16), st.binary(max_size=64),
              st.binary(max_size=8), piid=piids),
    st.builds(C.ConnectResponse, st.builds(C.FactoryVersion), associations,
              st.sampled_from([0, 1, 2, 3, 4, 5, 255]),
              st.one_of(st.none(), st.tuples(st.binary(max_size=32), st.binary(max_size=8))),
              piid=piids),
    st.builds(C.ReleaseRequest, piid=piids),
    st.builds(C.ReleaseResponse, st.just(0), piid=piids),
    st.builds(C.ReleaseNotification, times, times, piid=piids),
)


@settings(max_examples=300)
@given(datas)
def test_data_round_trip(d):
    assert decode_data(encode_data(d)) == d


@settings(max_examples=300)
@given(apdus)
def test_apdu_round_trip(msg):
    assert decode_apdu(msg.encode()) == msg


@given(st.lists(oads, min_size=1, max_size=3), st.integers(0, 3))
def test_record_reply_round_trip(cols, nrows):
    rows = [[Data(D.DOUBLE_LONG_UNSIGNED, r * 10 + c) for c in range(len(cols))]
            for r in range(nrows)]
    msg = GetRecordReply(RecordResult(OAD(0x5004, 2, 0), cols, rows))
    assert decode_apdu(msg.encode()) == msg


frames = st.builds(Frame, st.integers(0, 255).map(lambda c: c & 0xE7 | 0x03),
                   st.binary(min_size=1, max_size=16), st.integers(0, 255),
                   st.binary(max_size=600), st.integers(0, 3), st.integers(0, 3))


@settings(max_examples=300)
@given(frames, st.integers(0, 4))
def test_frame_round_trip(f, pre):
    assert decode_frame(encode_frame(f, preamble=pre)) == f


@given(st.binary(min_size=2, max_size=2000), st.integers(1, 300))
def test_segmentation_round_trip(apdu, size):
    if len(apdu) <= size:
        return
    r = S.Reassembler()
    out = None
    for frag in S.split(apdu, size):
        confirm, out = r.accept(S.Fragment.decode(frag.encode()))
    assert out == apdu


@settings(max_examples=500)
@given(st.binary(max_size=400))
def test_decoders_never_crash(raw):
    for fn in (decode_frame, decode_apdu, decode_data, S.Fragment.decode):
        try:
            fn(raw)
        except DecodeError:
            pass


@settings(max_examples=300)
@given(st.binary(max_size=80), st.binary(max_size=80))
def test_apdu_decoder_never_crashes_on_mutated_golden(prefix, tail):
    base = bytes.fromhex("85030350040200020020210200000010020001011C07E0011400000001050600000000"
                         "0600000000060000000006000000000600000000 0000".replace(" ", ""))
    for raw in (prefix + base, base[:len(prefix)] + tail, base + tail):
        try:
            decode_apdu(raw)
        except DecodeError:
            pass


@settings(max_examples=200)
@given(st.lists(st.binary(max_size=60), max_size=8), frames)
def test_deframer_never_loses_bytes(chunks, f):
    raw = encode_frame(f)
    d = Deframer(max_buffer=512)
    got = []
    for c in chunks + [raw]:
        d.feed(c)
        got.extend(d)
    d.flush()
    got.extend(d)
    assert b"".join(i.raw for i in got) == b"".join(chunks) + raw
    assert any(isinstance(i, Frame) and i == f for i in got) or len(b"".join(chunks)) + len(raw) > 512
