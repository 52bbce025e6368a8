"""The area identification result carried in 06F5 (docs/areaid.md): a frame laid out by hand from
the public CCO source decodes to its node, flag and CCO; any result round-trips; any bytes give
a result or a typed DecodeError, never anything else."""
import pytest
from hypothesis import given, strategies as st

from protocols.gdw1376_2 import afn as A
from protocols.gdw1376_2.errors import DecodeError

# Laid out by hand after Matteo-dj/work sdk_use/app/mrs/src/mrs_transfomer_identify_cco.c
# (mrsTfCcoCreate645Frame: the meter address, control 9EH, a 1-byte flag as the "DI", the
# belonging CCO address as data, +33H as every 645 data byte): meter 000000000089, flag 01
# (archived here, another area), CCO 000000009999; CS = sum of 68..33 mod 256 = 96.
GOLDEN = bytes.fromhex("68 89 00 00 00 00 00 68 9E 07 34 CC CC 33 33 33 33 96 16")


def test_the_hand_laid_result_decodes_to_its_node_and_cco():
    r = A.parse_area_result(GOLDEN)
    assert r.addr[::-1].hex() == "000000000089" and r.cco[::-1].hex() == "000000009999"
    assert r.flag == A.FLAG_FOREIGN and r.foreign
    assert A.is_area_result(GOLDEN) and r.body() == GOLDEN


def test_a_bad_checksum_an_unknown_flag_and_another_control_are_named():
    with pytest.raises(DecodeError, match="checksum"):
        A.parse_area_result(GOLDEN[:-2] + bytes([GOLDEN[-2] ^ 1]) + GOLDEN[-1:])
    flag9 = bytearray(GOLDEN)
    flag9[10] = 0x33 + 9
    flag9[-2] = sum(flag9[:-2]) & 0xFF
    with pytest.raises(DecodeError, match="flag"):
        A.parse_area_result(bytes(flag9))
    read = bytearray(GOLDEN)
    read[8] = 0x91
    assert not A.is_area_result(bytes(read))
    with pytest.raises(DecodeError, match="control"):
        A.parse_area_result(bytes(read))


addr6 = st.binary(min_size=6, max_size=6)


@given(addr6, st.sampled_from(A.FLAGS), addr6)
def test_any_result_round_trips(addr, flag, cco):
    r = A.AreaResult(addr, flag, cco)
    assert A.parse_area_result(r.body()) == r
    assert r.foreign == (flag in (A.FLAG_FOREIGN, A.FLAG_FOREIGN_UNARCHIVED))


@given(st.binary(max_size=40))
def test_any_bytes_give_a_result_or_a_decode_error(raw):
    try:
        A.parse_area_result(raw)
    except DecodeError:
        pass


@given(st.binary(min_size=19, max_size=19))
def test_any_frame_sized_bytes_give_a_result_or_a_decode_error(raw):
    raw = b"\x68" + raw[1:7] + b"\x68\x9e\x07" + raw[10:]
    try:
        A.parse_area_result(raw)
    except DecodeError:
        pass
