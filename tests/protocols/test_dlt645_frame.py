import pytest

from protocols.bcd import hex_to_bytes
from protocols.dlt645 import (DecodeError, Frame, address, address_text, decode_frame,
                              encode_frame, mask, parse_reply, parse_request, v1997)
from protocols.dlt645 import di as DI
from tests.conftest import ROOT, load_toml

VECTORS = load_toml(ROOT / "tests/protocols/vectors/dlt645/frames.toml")["frame"]


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_vector_decodes_to_its_fields(vec):
    raw = hex_to_bytes(vec["hex"])
    frame = decode_frame(raw)
    assert frame.address == vec["address"]
    assert frame.ctrl == vec["control"]
    assert frame.data == hex_to_bytes(vec["data"])
    if "di" in vec:
        msg = parse_reply(frame) if frame.is_reply else parse_request(frame)
        assert DI.text(msg.di) == vec["di"]
        if "value" in vec:
            assert msg.value()[1] == vec["value"]


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_encoder_reproduces_golden_vector(vec):
    frame = Frame(address(vec["address"]), vec["control"], hex_to_bytes(vec["data"]))
    assert encode_frame(frame, preamble=0) == hex_to_bytes(vec["hex"])


def test_golden_1997_read_b611():
    raw = hex_to_bytes("68 03 00 00 00 00 00 68 01 02 44 E9 03 16")   # manualshive excerpt
    frame = decode_frame(raw)
    req = v1997.parse_request_97(frame)
    assert req.di == 0xB611
    assert frame.address == "000000000003"
    assert encode_frame(req.to_frame(frame.addr), preamble=0) == raw


def test_preamble_is_optional_and_not_in_checksum():
    raw = hex_to_bytes("68 AA AA AA AA AA AA 68 13 00 DF 16")
    for n in range(5):
        assert decode_frame(b"\xFE" * n + raw).preamble == n
    assert encode_frame(decode_frame(raw), preamble=4) == b"\xFE" * 4 + raw


def test_more_than_four_fe_is_rejected_by_the_strict_decoder():
    with pytest.raises(DecodeError) as err:
        decode_frame(b"\xFE" * 5 + hex_to_bytes("68 AA AA AA AA AA AA 68 13 00 DF 16"))
    assert err.value.field == "preamble"


def test_decode_error_names_field_and_shows_bytes():
    raw = bytearray(hex_to_bytes("68 AA AA AA AA AA AA 68 13 00 DF 16"))
    raw[10] = 0xE0
    with pytest.raises(DecodeError) as err:
        decode_frame(bytes(raw))
    assert err.value.field == "checksum"
    assert "E0" in str(err.value) and "expected DF" in str(err.value)
    assert err.value.offset == 10


@pytest.mark.parametrize("raw,field", [
    (b"", "length"), (b"\x68\x00", "length"),
    (hex_to_bytes("69 AA AA AA AA AA AA 68 13 00 DF 16"), "start"),
    (hex_to_bytes("68 AA AA AA AA AA AA 69 13 00 DF 16"), "start2"),
    (hex_to_bytes("68 AA AA AA AA AA AA 68 13 01 DF 16"), "length"),
    (hex_to_bytes("68 AA AA AA AA AA AA 68 13 00 DF 17"), "end"),
])
def test_malformed_frames_raise_typed_errors(raw, field):
    with pytest.raises(DecodeError) as err:
        decode_frame(raw)
    assert err.value.field == field


def _frame_with_checksum(target):
    for b in range(256):
        f = Frame(address("000000000001"), 0x91, DI.to_bytes(0x00010000) + bytes([b, 0, 0, 0]))
        raw = encode_frame(f, preamble=0)
        if raw[-2] == target:
            return f, raw
    raise AssertionError("no frame with that checksum")


@pytest.mark.parametrize("cs", [0x16, 0x68, 0xFE])
def test_checksum_equal_to_a_delimiter_is_harmless(cs):
    # peers cut the frame at the first 16, or dropped every FE (PROTOCOLS.md)
    f, raw = _frame_with_checksum(cs)
    assert decode_frame(raw) == f
    from protocols.dlt645 import Deframer
    d = Deframer()
    d.feed(b"\xFE\xFE" + raw + b"\xFE" + raw)
    assert [x for x in d] == [f, f]


def test_address_containing_16_and_68_bytes():
    f = Frame(bytes([0x16, 0x68, 0x16, 0x68, 0x00, 0x00]), 0x11, DI.to_bytes(0x00010000))
    assert decode_frame(encode_frame(f)) == f


def test_raw_bytes_at_or_above_cd_wrap_when_masked():
    data = bytes(range(0xC8, 0x100))
    assert mask(data)[:8] == bytes([0xFB, 0xFC, 0xFD, 0xFE, 0xFF, 0x00, 0x01, 0x02])
    f = Frame(address("000000000001"), 0x94, data)
    assert decode_frame(encode_frame(f)).data == data


def test_encoding_twice_does_not_double_mask():
    f = Frame(address("000000000001"), 0x11, DI.to_bytes(0x00010000))
    assert encode_frame(f) == encode_frame(f)
    assert f.data == DI.to_bytes(0x00010000)


def test_address_text_round_trip_and_wildcards():
    assert address("123456789012") == bytes([0x12, 0x90, 0x78, 0x56, 0x34, 0x12])
    assert address_text(address("AAAAAA001234")) == "AAAAAA001234"
    assert address("1") == bytes([1, 0, 0, 0, 0, 0])
