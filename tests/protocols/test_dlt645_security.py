"""DL/T 645 0x03 security layouts: lengths and SERR bits from public firmware
(docs/dlt645-security.md), round trips and never-crash properties, and the TEST key scheme."""
import pytest
from hypothesis import given, strategies as st

from protocols.errors import DecodeError, ProtocolError
from protocols.dlt645 import Security, decode_frame, encode_frame, parse_request
from protocols.dlt645 import security as S, testkey as TK

b = lambda n: st.binary(min_size=n, max_size=n)
u32 = st.integers(0, 0xFFFFFFFF)
layouts = st.one_of(
    st.builds(S.IdentityAuth, b(4), b(8), b(8), b(8)),
    st.builds(S.IdentityReply, b(4), b(8)),
    st.builds(S.IdentityValidity, b(4), st.integers(1, 9999), b(4)),
    st.builds(S.Recharge, b(4), u32, u32, b(4), b(6), b(4)),
    st.builds(S.Status, u32, b(4), u32, b(4), b(6), b(4)),
    st.builds(S.SealedControl, b(16), b(4)),
)


def test_lengths_are_the_public_firmware_table():
    # the firmware table gives the data length with the DI: 32, 14, 8, 30, 30, 48, 16, 8
    with_di = {0x070000FF: 32, 0x070001FF: 14, 0x070002FF: 8, 0x070101FF: 30, 0x070102FF: 30,
               0x070201FF: 48, 0x070202FF: 48, 0x070203FF: 48, 0x078001FF: 16, 0x078102FF: 8}
    assert {di: n + 4 for di, n in S.REQUEST_LEN.items()} == with_di
    assert len(S.Status(1, b"\0" * 4, 2, b"\0" * 4, b"\0" * 6, b"\0" * 4).encode()) == 26
    assert 4 + 4 + S.SEALED_CONTROL_LEN == 28     # the 0x1C L of a level-98 control


def test_serr_bits_named_as_the_firmware_error_word():
    assert S.serr_names(0x0001) == ["other"]
    assert S.serr_names(0x0002 | 0x0008) == ["repeat_recharge", "identity_authentication_failed"]
    assert S.serr_names(0x0100) == ["meter_suspended"]
    assert S.serr_names(0x8000) == ["bit15"]


def test_recharge_field_order_and_byte_order():
    r = S.Recharge(b"\x01\x02\x03\x04", 5000, 3, b"MAC1", b"\x11\x22\x33\x44\x55\x66", b"MAC2")
    assert r.encode() == (b"\x01\x02\x03\x04" + b"\x88\x13\x00\x00" + b"\x03\x00\x00\x00"
                          + b"MAC1" + b"\x11\x22\x33\x44\x55\x66" + b"MAC2")


def test_security_request_through_a_frame():
    item = S.IdentityAuth(b"\0" * 4, b"\1" * 8, b"\2" * 8, b"\0\0" + b"\x42" * 6)
    raw = encode_frame(Security(S.DI_IDENTITY, item.encode()).to_frame(b"\x42" * 6))
    assert raw[8:10] == b"\x03\x20"                 # C = 03, L = 32
    req = parse_request(decode_frame(raw))
    assert S.parse_request(req.di, req.body) == item


@given(layouts)
def test_layout_round_trip(item):
    assert type(item).parse(item.encode()) == item


@given(st.sampled_from(sorted(S.NAMES)), st.binary(max_size=60))
def test_parse_never_crashes(di, data):
    for parse in (S.parse_request, S.parse_reply):
        try:
            parse(di, data)
        except DecodeError:
            pass


def test_bad_lengths_are_typed_errors():
    with pytest.raises(DecodeError):
        S.Recharge.parse(b"\0" * 25)
    with pytest.raises(DecodeError):
        S.IdentityValidity.parse(b"\0" * 4 + b"\x0A\x00" + b"\0" * 4)   # not BCD
    with pytest.raises(ProtocolError):
        S.Recharge(b"\0" * 4, -1, 0, b"\0" * 4, b"\0" * 6, b"\0" * 4)


def test_hmac_is_rfc4231_case_2():
    # RFC 4231 test case 2 (a public vector): HMAC-SHA256("Jefe", "what do ya want for nothing?")
    assert TK.hmac_sha256(b"Jefe", b"what do ya want for nothing?").hex() == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


@given(b(4), b(8), b(8))
def test_sealed_control_opens_only_with_its_session(r2, serial, body):
    sealed = TK.seal_control(TK.TEST_KEY, r2, serial, body)
    assert TK.open_control(TK.TEST_KEY, r2, serial, sealed) == body
    with pytest.raises(ValueError):
        TK.open_control(TK.TEST_KEY, bytes([r2[0] ^ 1]) + r2[1:], serial, sealed)


def test_gridedge_decode_names_security_items_sealed_controls_and_serr():
    from protocols.dlt645 import Ack, Control, ErrorReply
    from hil.decode import explain_frame

    def explain(raw):
        return explain_frame(decode_frame(raw))
    addr = b"\x42" + b"\x00" * 5
    status = S.Status(1234, b"\1" * 4, 3, b"\2" * 4, b"\x06\x05\x04\x03\x02\x01", b"\0" * 4)
    out = explain(encode_frame(Ack(0x03, b"\xFF\x02\x81\x07" + status.encode())
                                     .to_frame(addr, reply=True)))
    assert out["security_item"] == "status" and out["fields"]["remaining_cents"] == 1234
    sealed = Control(None, None, 0x98, b"\0" * 3, b"\0" * 4, cipher=b"\x55" * 20)
    out = explain(encode_frame(sealed.to_frame(addr)))
    assert out["level"] == "98" and "20 bytes ciphertext" in out["sealed"]
    out = explain(encode_frame(ErrorReply(0x03, 0, 0x000A).to_frame(addr)))
    assert out["errors"] == ["repeat_recharge", "identity_authentication_failed"]
    out = explain(encode_frame(Security(S.DI_RECHARGE, b"\0" * 5).to_frame(addr)))
    assert out["security_item"] == "recharge" and "needs 26" in out["security_error"]
