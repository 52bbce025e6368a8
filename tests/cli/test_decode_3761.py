"""``gridedge decode --protocol 1376.1``: every (Pn, Fn) pair, where a parse stopped, and every
AFN0E event record with its typed fields (golden frames from tests/protocols/vectors/gdw1376_1)."""
import json

from hypothesis import given, settings, strategies as st

from hil.decode import explain_capture_3761
from tests.cli.test_serving import cli
from tests.conftest import ROOT, load_toml

VECTORS = {v["name"]: bytes.fromhex(v["hex"]) for v in load_toml(
    ROOT / "tests/protocols/vectors/gdw1376_1/pairs.toml")["frame"]}


def test_decode_prints_every_pair_and_every_event_record(env_with_path):
    frames = [VECTORS["afn0d_f51_then_f49_answer"], VECTORS["afn0e_f1_erc1_version_change"],
              VECTORS["afn0c_f170_request_points_1_and_2"]]
    out = cli("decode", "--protocol", "1376.1", "--json", *[f.hex() for f in frames],
              env=env_with_path)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert [(u["item"], u["point"]) for u in items[0]["units"]] == [("F51", "p0"), ("F49", "p0")]
    assert items[0]["units"][1]["supply_min"] == 51
    (event,) = items[1]["units"][0]["events"]
    assert event["erc"] == 1 and event["name"] == "init / version change"
    assert event["record"]["new_version"] == "2.02" and event["data"].startswith("35 10 16")
    assert [(u["item"], u["point"]) for u in items[2]["units"]] == [("F170", "p1"), ("F170", "p2")]
    text = cli("decode", "--protocol", "1376.1", frames[1].hex(), env=env_with_path)
    assert text.returncode == 0 and "init / version change" in text.stdout


def test_explain_says_where_a_parse_stopped_and_marks_vendor_codes():
    from protocols.gdw1376_1 import Frame, encode_frame
    data = (bytes.fromhex("01 01 01 10 15 10 01 12 26 00 00 25 34 12 00")     # F129 p1
            + bytes.fromhex("03 01 02 03 AA BB"))                             # F26 p1 p2: unknown
    answer = encode_frame(Frame(0x0C, data, up=True, prm=False, func=8, region="0171",
                                terminal=2082))
    events = bytes.fromhex("00 00 01 00 01 00 00 01 40 0C 03 00 30 08 02 12 26 30 09 02 12 26")
    upload = encode_frame(Frame(0x0E, events, up=True, prm=True, func=4, region="0171",
                                terminal=2082))
    first, second = explain_capture_3761(answer + upload)
    stop = first["units"][1]
    assert stop["item"] == "F26" and stop["stopped_at"] == 19 and stop["raw"] == "AA BB"
    assert stop["unread_pairs"] == ["p2 F26"] and "no layout" in stop["stop_reason"]
    (event,) = second["units"][0]["events"]
    assert event["name"] == "meter power down (vendor code)"
    assert event["record"]["pn"] == 3
    json.dumps([first, second])


@settings(max_examples=300)
@given(st.sampled_from([0x00, 0x02, 0x04, 0x05, 0x0A, 0x0C, 0x0D, 0x0E, 0x10]), st.booleans(),
       st.binary(max_size=120))
def test_property_explaining_any_data_part_never_crashes_and_is_json(afn, up, data):
    from protocols.gdw1376_1 import Frame, encode_frame
    raw = encode_frame(Frame(afn, data, up=up, prm=not up, func=8 if up else 4, region="0171",
                             terminal=2082, pw=None if up or afn not in (4, 5, 0x10) else bytes(16)))
    (item,) = explain_capture_3761(raw)
    json.dumps(item)
    assert "units" in item or "units_error" in item
