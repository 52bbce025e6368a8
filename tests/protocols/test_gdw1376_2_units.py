"""Golden frames of the 1376.2 data units (vectors/gdw1376_2/units.toml): each decodes to the
unit and fields its source gives, and our encoder gives the same bytes back; every unit decoder
survives any bytes; the editions say what each defines."""
import pytest
from hypothesis import given, settings, strategies as st

from protocols.bcd import hex_to_bytes
from protocols.errors import DecodeError as ProtocolDecodeError
from protocols.gdw1376_2 import Frame, decode_frame, encode_frame
from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2 import editions as E
from protocols.gdw1376_2.afn.base import _REGISTRY
from tests.conftest import ROOT, load_toml

VECTORS = load_toml(ROOT / "tests/protocols/vectors/gdw1376_2/units.toml")["unit"]


def same(value, expected):
    if isinstance(expected, str) and expected.startswith("hex:"):
        return bytes(value) == bytes.fromhex(expected[4:])
    if isinstance(expected, dict):
        return all(same(getattr(value, k), v) for k, v in expected.items())
    if isinstance(expected, list):
        return len(value) == len(expected) and all(same(a, b) for a, b in zip(value, expected))
    return value == expected


@pytest.mark.parametrize("vec", VECTORS, ids=[v["name"] for v in VECTORS])
def test_golden_unit_decodes_to_its_fields_and_reencodes(vec):
    raw = hex_to_bytes(vec["hex"])
    f = decode_frame(raw)
    unit = A.unit_of(f)
    assert type(unit).__name__ == vec["unit"]
    for key, expected in vec["fields"].items():
        assert same(getattr(unit, key), expected), (key, getattr(unit, key), expected)
    again = Frame(f.afn, f.fn, unit.payload(), f.down, f.prm, f.comm, f.info, f.src, f.relays, f.dst)
    assert encode_frame(again) == raw


def test_both_confirm_lengths_decode_and_a_wrong_length_names_the_unit():
    assert A.Confirm.parse(b"\x01\x00\x00\x00\x0A\x00").wait_s == 10
    assert A.Confirm.parse(b"\xFF\xFF\x0A\x00").legacy
    with pytest.raises(ProtocolDecodeError, match="confirm"):
        A.Confirm.parse(b"\x01\x00\x00\x00\x0A")


def test_run_mode_reading_flags():
    mode = A.RunMode(reading=A.READ_BY_CONCENTRATOR)
    assert mode.concentrator_may_read and not mode.router_may_read
    assert A.RunMode.parse(mode.payload()) == mode


UNITS = sorted(_REGISTRY.values(), key=lambda c: (c.AFN, c.FN, c.UP), reverse=False)


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=80))
@pytest.mark.parametrize("cls", sorted(set(UNITS), key=lambda c: (c.AFN, c.FN, c.UP)),
                         ids=lambda c: c.__name__)
def test_every_unit_decoder_returns_a_unit_or_a_decode_error(cls, data):
    try:
        unit = cls.parse(data)
    except ProtocolDecodeError:
        return
    assert cls.parse(unit.payload()) == unit


def test_editions_name_what_each_defines():
    assert E.defines(E.EDITION_2019, 0x10, 21) and not E.defines(E.EDITION_2013, 0x10, 21)
    assert E.defines(E.EDITION_2019, 0xF1, 1) and not E.defines(E.EDITION_2013, 0xF1, 1)
    assert E.defines(E.EDITION_2013, 0x03, 10) and E.defines(E.EDITION_2013, 0x15, 1)
    assert not E.defines(E.EDITION_2019, 0x15, 3)
    assert E.deny_code(E.EDITION_2019, A.DENY_OVER_CONCURRENCY) == A.DENY_OVER_CONCURRENCY
    assert E.deny_code(E.EDITION_2013, A.DENY_OVER_CONCURRENCY) == A.DENY_BUSY
    with pytest.raises(ValueError):
        E.check("2009")
