"""`gridedge decode` on any bytes: all-FF time fields read as invalid with their bytes, 1376.1
event answers print as JSON, garbage carries the deframer's own reason, and the formatting path
(text and JSON) never raises, whatever the bytes (hypothesis, in good frames and out of them)."""
import json

from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from hil.cli import main
from hil.decode import explain_capture, explain_capture_3761, explain_capture_3762
from protocols.dlt645 import const as K
from protocols.dlt645.deframer import Deframer
from protocols.dlt645.frame import Frame as Frame645, encode_frame as encode_645
from protocols.gdw1376_1 import Frame as Frame3761, Tp, Unit, encode_frame as encode_3761
from protocols.gdw1376_1.units import AFN_CLASS3, LAYOUTS, encode_units
from protocols.gdw1376_2.afn.base import _REGISTRY
from protocols.gdw1376_2.frame import Frame as Frame3762, encode_frame as encode_3762

ADDR = bytes([1, 0, 0, 0, 0, 0])
FF6 = "FF FF FF FF FF FF"


def decode(*args):
    result = CliRunner().invoke(main, ["decode", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def test_a_control_valid_until_all_ff_reads_invalid_with_its_bytes():
    trip = b"\x02\x00\x00\x00\x01\x00\x00\x00\x1a\x00" + b"\xff" * 6    # 0x1C trip, no expiry
    raw = encode_645(Frame645(ADDR, K.F_CONTROL, trip))
    [item] = explain_capture(raw)
    assert item["command"] == "trip" and item["valid_until"] == "invalid (%s)" % FF6
    out = decode("--json", raw.hex())
    assert out.exit_code == 0 and json.loads(out.output)[0]["valid_until"].endswith(FF6 + ")")


def test_a_broadcast_time_all_ff_reads_invalid_with_its_bytes():
    raw = encode_645(Frame645(K.BROADCAST_ADDR, K.F_BROADCAST_TIME, b"\xff" * 6))
    out = decode(raw.hex())
    assert out.exit_code == 0 and "time          invalid (%s)" % FF6 in out.output


def test_an_afn0e_event_answer_prints_as_json():
    events = {"ec1": 2, "ec2": 0, "pm": 0, "pn": 2,
              "events": [{"erc": 64, "data": b"\x01\x00\x00\x00\x02\x01\x26"},
                         {"erc": 65, "data": b"\x01\x00\xff"}]}
    raw = encode_3761(Frame3761(AFN_CLASS3, encode_units([Unit(AFN_CLASS3, 1, 0, events, True)]),
                                up=True, region="0171", terminal=2082))
    out = decode("--json", "--protocol", "1376.1", raw.hex())
    assert out.exit_code == 0, out.output
    unit = json.loads(out.output)[0]["units"][0]
    assert [e["data"] for e in unit["events"]] == ["01 00 00 00 02 01 26", "01 00 FF"]


def test_garbage_carries_the_deframers_own_reason():
    good = bytes.fromhex("68017200720000689108333334333333333333E716")
    bad = good[:-2] + bytes([good[-2] ^ 1]) + good[-1:]          # the checksum is off
    deframer = Deframer()
    deframer.feed(bad)
    [garbage] = list(deframer)
    out = decode("--json", bad.hex())
    assert json.loads(out.output) == [{"garbage": bad.hex(" ").upper(), "reason": garbage.reason}]
    assert garbage.reason != "inter-byte gap expired"
    [truncated] = explain_capture(good[:-3])          # the capture ends inside a frame
    assert "garbage" in truncated


def _total(items):
    assert isinstance(items, list) and all(isinstance(i, dict) for i in items)
    json.dumps(items, ensure_ascii=False, allow_nan=False)
    for item in items:
        for key, value in item.items():
            "  %-13s %s" % (key, value)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120))
def test_any_bytes_format_as_text_and_json(data):
    for explain in (explain_capture, lambda d: explain_capture(d, 1997), explain_capture_3762,
                    explain_capture_3761):
        _total(explain(data))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([0x11, 0x91, 0xB1, 0xD1, 0x92, 0x1C, 0x9C, 0xDC, 0x08, 0x14, 0x94, 0x81,
                        0x16, 0x13, 0x93, 0x03, 0x83]),
       st.sampled_from([ADDR, K.BROADCAST_ADDR, b"\xaa" * 6]), st.binary(max_size=64),
       st.binary(max_size=8))
def test_any_645_payload_in_a_good_frame_formats(ctrl, addr, data, noise):
    raw = encode_645(Frame645(addr, ctrl, data))
    _total(explain_capture(noise + raw + noise))
    _total(explain_capture(raw, 1997))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(_REGISTRY)), st.binary(max_size=80), st.booleans())
def test_any_3762_payload_in_a_good_frame_formats(key, data, addressed):
    afn, fn, up = key
    raw = encode_3762(Frame3762(afn, fn, data, down=not up, src=ADDR if addressed else None,
                                dst=ADDR if addressed else None))
    _total(explain_capture_3762(raw))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(LAYOUTS)), st.binary(max_size=120), st.booleans())
def test_any_3761_payload_in_a_good_frame_formats(key, data, labelled):
    afn, fn, up = key
    frame = Frame3761(afn, data, up=up, region="0171", terminal=2082,
                      tp=Tp.at(1, 1767312000.0, 5) if labelled and not up else None)
    frame.pw = b"\x00" * 16 if frame.has_pw else None
    _total(explain_capture_3761(encode_3761(frame)))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from([0x01, 0x02, 0x05, 0x06, 0x07, 0x08, 0x10, 0x81, 0x85, 0x86, 0x87, 0x88,
                        0x90]), st.binary(max_size=80), st.booleans(), st.booleans())
def test_any_698_apdu_in_a_good_frame_formats(tag, data, from_server, segmented):
    from hil.decode698 import explain_capture as explain_698
    from protocols import dlt698
    ctrl = dlt698.control(from_server, not from_server, segmented=segmented)
    raw = dlt698.encode_frame(dlt698.Frame(ctrl, ADDR, 0x10, bytes([tag]) + data))
    _total(explain_698(raw))
    _total(explain_698(data + raw))
