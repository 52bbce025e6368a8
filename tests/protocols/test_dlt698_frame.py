import sys
from pathlib import Path

import crcmod.predefined
import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from protocols.bcd import hex_to_bytes
from protocols.dlt698 import (OAD, DecodeError, EncodeError, GetNormal, address, crc16,
                              decode_apdu, decode_frame, encode_frame, registry, request_frame)
from protocols.dlt698 import segment as S
from protocols.dlt698.describe import apdu as describe_apdu

VECTORS = Path(__file__).parent / "vectors" / "dlt698"
FRAMES = tomllib.loads((VECTORS / "frames.toml").read_text())["frame"]
APDUS = tomllib.loads((VECTORS / "apdus.toml").read_text())["apdu"]
X25 = crcmod.predefined.mkCrcFun("x-25")


def test_crc_matches_crcmod_and_the_standards_check_value():
    assert crc16(b"123456789") == 0x906E == X25(b"123456789")
    for v in FRAMES:
        raw = hex_to_bytes(v["hex"])
        assert crc16(raw[1:-3]) == X25(raw[1:-3])


@pytest.mark.parametrize("v", FRAMES, ids=[v["name"] for v in FRAMES])
def test_golden_frame(v):
    raw = hex_to_bytes(v["hex"])
    head = 5 + (raw[4] & 0x0F) + 2
    assert raw[head] | raw[head + 1] << 8 == X25(raw[1:head])       # HCS by crcmod
    assert raw[-3] | raw[-2] << 8 == X25(raw[1:-3])                  # FCS by crcmod
    f = decode_frame(raw)
    assert (f.ctrl, f.address, f.ca) == (v["control"], v["address"], v["ca"])
    assert encode_frame(f) == raw
    if "fragment" in v:
        frag = S.Fragment.decode(f.data)
        assert [frag.kind, frag.seq] == v["fragment"] and f.segmented
        return
    msg = decode_apdu(f.data)
    assert type(msg).__name__ == v["apdu"]
    assert msg.encode() == f.data
    desc = describe_apdu(msg)
    if "oad" in v:
        holder = getattr(msg, "result", None) or getattr(msg, "record", None) or msg
        oad = holder.oad
        assert oad.text() == v["oad"]
    if "scaled" in v:
        assert desc["result"]["scaled"] == pytest.approx(v["scaled"])
    if "time" in v:
        assert msg.result.data.value.text() == v["time"]
    if "rows" in v:
        assert len(msg.record.rows) == v["rows"]
    if "dar" in v:
        assert msg.dar == v["dar"]
    if "heartbeat" in v:
        assert msg.heartbeat == v["heartbeat"]


@pytest.mark.parametrize("v", APDUS, ids=[v["name"] for v in APDUS])
def test_golden_apdu(v):
    raw = hex_to_bytes(v["hex"])
    msg = decode_apdu(raw)
    assert type(msg).__name__ == v["service"]
    assert msg.encode() == raw
    describe_apdu(msg)


def test_appendix_d_values_read_right():
    volts = decode_apdu(hex_to_bytes(APDUS[3]["hex"])).results[0]
    assert [d.value for d in volts.data.value] == [2413] * 3
    assert registry.scaled(registry.lookup(volts.oad), volts.data) == pytest.approx([241.3] * 3)
    rec = decode_apdu(hex_to_bytes(APDUS[6]["hex"]))
    assert rec.rsd.selector == 5 and [t.text() for t in rec.rsd.fields[1].items][:2] == [
        "2101000000", "2201000000"]
    assert rec.columns[-1].oad == OAD(0x5004, 2, 0) and len(rec.columns[-1].oads) == 2


def test_segmented_capture_reassembles_to_the_unsegmented_apdu():
    frames = [decode_frame(hex_to_bytes(v["hex"])) for v in FRAMES if v["name"].startswith("segment_")]
    r = S.Reassembler()
    confirms = []
    out = None
    for f in frames[:3]:
        confirm, out = r.accept(S.Fragment.decode(f.data))
        confirms.append(confirm)
    assert out == hex_to_bytes("05 01 15 F1 01 02 00 00")     # dlt698_rs: the combined frame's APDU
    assert confirms[0] == S.Fragment.decode(frames[3].data)    # the captured confirm of seq 261
    assert confirms[2] is None


def test_reassembler_repeats_and_refuses_out_of_order():
    parts = S.split(bytes(range(50)), 20)
    r = S.Reassembler()
    assert r.accept(parts[0])[0].seq == 0
    assert r.accept(parts[0])[0].seq == 0            # lost confirm: confirmed again, not re-added
    with pytest.raises(DecodeError):
        r.accept(S.Fragment(S.LAST, 5, b"x"))
    r.accept(parts[1])
    assert r.accept(parts[2]) == (None, bytes(range(50)))
    with pytest.raises(DecodeError):
        S.Reassembler().accept(parts[1])


def test_our_encoder_reproduces_the_appendix_d_frame():
    f = request_frame(GetNormal(OAD(0x4001, 2, 0), piid=1), address("201605190907"), ca=0)
    assert encode_frame(f) == hex_to_bytes(FRAMES[0]["hex"])


BAD = [
    ("bad_hcs", "68 17 00 43 05 07 09 19 05 16 20 00 15 61 05 01 01 40 01 02 00 00 C6 07 16", "HCS"),
    ("bad_fcs", "68 17 00 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 08 16", "FCS"),
    ("no_end", "68 17 00 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 07 17", "frame"),
    ("short", "68 17 00 43 05 07 09", "L"),
    ("trailing", "68 17 00 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 07 16 00", "L"),
    ("no_start", "16 17", "start"),
    ("kb_unit", "68 17 40 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 07 16", "frame"),
]


@pytest.mark.parametrize("name,hexs,field", BAD, ids=[b[0] for b in BAD])
def test_bad_frames_name_the_field(name, hexs, field):
    with pytest.raises(DecodeError) as e:
        decode_frame(hex_to_bytes(hexs))
    assert e.value.field == field


def test_bad_apdus_are_typed_errors():
    for raw in ("05", "05 09 00", "85 01 01 40 01 02 00 02", "77 01", "05 01 01 40 01 02 00 00 FF",
                "85 01 01 40 01 02 00 01 63 00 00"):
        with pytest.raises(DecodeError):
            decode_apdu(hex_to_bytes(raw))


def test_encode_refuses_illegal_values():
    with pytest.raises(EncodeError):
        encode_frame(request_frame(b"\x05", b""))
    with pytest.raises(EncodeError):
        address("12345678901234567890123456789012345")
    with pytest.raises(EncodeError):
        GetNormal(OAD(0x10000, 2, 0)).encode()
