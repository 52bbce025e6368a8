"""``gridedge decode`` on DL/T 698.45 captures (golden frames from vectors/dlt698/frames.toml)."""
import json

from tests.cli.test_serving import cli
from hil.decode import explain_capture as explain_645
from hil.decode698 import explain_capture, explain_meter_bytes, looks_like_698

GET = "68 17 00 43 05 07 09 19 05 16 20 00 15 60 05 01 01 40 01 02 00 00 C6 07 16"
ENERGY = ("68 1E 00 C3 05 00 00 00 00 00 00 00 9E 54 85 01 00 00 10 02 01 01 06 00 01 E2 40 00 "
          "00 5A D4 16")
SEGMENTS = ["68 14 00 A3 05 02 00 00 00 00 00 10 76 75 05 01 05 01 15 D6 D1 16",
            "68 14 00 A3 05 02 00 00 00 00 00 10 76 75 06 F1 F1 01 02 5A 30 16",
            "68 13 00 A3 05 02 00 00 00 00 00 10 90 D5 07 41 00 00 04 FC 16"]
F645 = "68 01 72 00 72 00 00 68 91 08 33 33 34 33 33 33 33 33 E7 16"


def test_autodetect_prints_every_field_of_a_698_frame(env_with_path):
    out = cli("decode", "00 " + ENERGY, "--json", env=env_with_path)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert items[0]["garbage"] == "00"
    f = items[1]
    assert (f["control"], f["direction"], f["address"], f["hcs"], f["fcs"]) == (
        "C3", "server->client", "000000000000", "549E ok", "D45A ok")
    assert f["apdu"] == "GET-Response" and f["service"] == "GetNormalReply"
    assert f["result.name"] == "forward active energy, total"
    assert f["result.scaled"] == 1234.56 and f["result.unit"] == "kWh"


def test_explicit_protocol_and_table_view(env_with_path):
    out = cli("decode", "--protocol", "698", GET, env=env_with_path)
    assert out.returncode == 0
    assert "communication address" in out.stdout and "201605190907" in out.stdout
    still_645 = cli("decode", "--json", F645, env=env_with_path)
    assert json.loads(still_645.stdout)[0]["di"] == "00010000"


def test_bad_698_bytes_are_garbage_not_a_crash(env_with_path):
    out = cli("decode", "--protocol", "698", GET[:-6] + " 00 00 16", env=env_with_path)
    assert out.returncode == 1 and "garbage" in out.stdout


def test_segmented_capture_shows_fragments_and_the_reassembled_apdu():
    items = explain_capture(bytes.fromhex("".join(SEGMENTS).replace(" ", "")))
    assert [i.get("fragment", "").split(",")[0] for i in items[:3]] == ["first", "middle", "last"]
    assert items[3]["reassembled"] == "05 01 15 F1 01 02 00 00"
    assert items[3]["oad.oad"] == "F1010200"


def test_a_carried_meter_frame_is_explained_in_its_own_protocol():
    raw698, raw645 = bytes.fromhex(GET.replace(" ", "")), bytes.fromhex(F645.replace(" ", ""))
    assert looks_like_698(raw698) and not looks_like_698(raw645)
    assert explain_meter_bytes(raw698, explain_645)[0]["service"] == "GetNormal"
    assert explain_meter_bytes(raw645, explain_645)[0]["di"] == "00010000"


# the CONNECT-Request the PyPI dlt698 1.0.1 client sends (captured on 127.0.0.1, its encoder)
THEIR_CONNECT = ("68 38 00 43 05 02 00 00 00 00 00 10 8E A0 02 00 00 10 FF FF F8 00 00 00 00 00 00 "
                 "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 04 00 04 00 01 04 00 00 00 00 64 00 "
                 "00 AB 91 16")


def test_connect_request_fields_are_named(env_with_path):
    out = cli("decode", "--json", THEIR_CONNECT, env=env_with_path)
    f = json.loads(out.stdout)[0]
    assert f["apdu"] == "CONNECT-Request" and f["mechanism"] == "0 public (NullSecurity)"
    assert (f["association.apdu_max"], f["association.timeout_s"]) == (1024, 100)
    assert f["association.protocol_conformance"] == "FF FF F8 00 00 00 00 00"


# found by benchmarks/fuzz_decoders.py: a SECURITY-Request's SID broke --json, and a GET-List
# reply with a non-Data element in a scaled array broke the scaling
FUZZ_FINDS = [
    "682b00430501000000000010168710000833010140010200000085010203061234567890120412345678fb1d16",
    "fefefefe682b00c30501000000000010c143850202022000020001010112082a2001020001010"
    "15d000008380000593516",
]


def test_what_the_fuzzer_found_decodes_to_json():
    for text in FUZZ_FINDS:
        items = explain_capture(bytes.fromhex(text))
        json.dumps(items)
        assert items and all("raw" in i or "garbage" in i for i in items)
