"""``gridedge sim``: the round-robin baseline over each medium, and the module on a pty."""
import json

import pytest
import serial

from protocols.gdw1376_2 import Deframer, Frame, encode_frame
from protocols.gdw1376_2 import afn as A
from tests.cli.test_serving import cli


@pytest.mark.parametrize("medium", ["rs485", "nbplc", "hplc"])
def test_sim_area_prints_per_depth_read_success(medium, env_with_path):
    out = cli("sim", "area", "--meters", "60", "--medium", medium, "--hours", "0.5",
              "--seed", "3", "--dead", "0.05", "--json", env=env_with_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["meters"] == 60 and report["medium"] == medium
    assert report["read"] == 57 and report["reachable_read_rate"] == 1.0
    assert sum(r["meters"] for r in report["read_rate_by_depth"].values()) == 60
    assert report["lower_bound_s"] > 0 and 0 < report["efficiency"] <= 1
    if medium == "nbplc":
        assert len(report["read_rate_by_depth"]) >= 3       # the dead at 0, relays beyond 1


def test_sim_area_table(env_with_path):
    out = cli("sim", "area", "--meters", "40", "--medium", "nbplc", "--hours", "0.2",
              env=env_with_path)
    assert out.returncode == 0, out.stderr
    assert "depth  meters" in out.stdout and "read rate" in out.stdout


def test_sim_module_serves_on_a_pty(env_with_path, tmp_path):
    import subprocess
    import sys
    import time
    proc = subprocess.Popen([sys.executable, "-m", "hil.cli", "sim", "module", "--meters", "20",
                             "--duration", "20"], stdout=subprocess.PIPE, text=True,
                            env=env_with_path)
    try:
        line = proc.stdout.readline()
        path = line.rsplit(" on ", 1)[1].strip()
        port = serial.Serial(path, 9600, parity="E", timeout=0.2)
        port.write(encode_frame(A.to_frame(A.ModuleInfoQuery(), seq=5)))
        d = Deframer()
        deadline = time.monotonic() + 10
        got = None
        while got is None and time.monotonic() < deadline:
            d.feed(port.read(64))
            got = next((f for f in d if isinstance(f, Frame) and not f.prm), None)
        port.close()
        assert got is not None and got.seq == 5 and A.unit_of(got).vendor == "GE"
        assert "(2019 edition)" in line
    finally:
        proc.terminate()
        proc.wait(10)


def test_decode_1376_2_with_the_carried_645_frame(env_with_path):
    capture = ("00 683300430500ff00000300000000000007000000000013010002000014fefefefe68070000000000"
               "68110434343938c5161316")
    out = cli("decode", "--protocol", "1376.2", "--json", capture, env=env_with_path)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert items[0] == {"garbage": "00", "reason": "noise"}
    f = items[1]
    assert (f["afn_fn"], f["unit"], f["dst"], f["seq"]) == ("AFN13 F1", "MonitorRequest",
                                                            "000000000007", 3)
    assert f["meter_frame"][0]["di"] == "05060101" and f["checksum"] == "13 ok"
    golden = cli("decode", "--protocol", "1376.2", "68 0F 00 41 01 00 FF 00 00 00 03 01 00 45 16",
                 env=env_with_path)
    assert golden.returncode == 0 and "ModuleInfoQuery" in golden.stdout
    bad = cli("decode", "--protocol", "1376.2", "68 0F 00", env=env_with_path)
    assert bad.returncode == 1 and "garbage" in bad.stdout


def test_decode_1376_1_with_a_forwarded_645_frame(env_with_path):
    from protocols.gdw1376_1 import Frame as Frame3761, Unit, encode_frame as encode_3761
    from protocols.gdw1376_1 import encode_units
    meter = bytes.fromhex("68AAAAAAAAAAAA68910633343435333399 16".replace(" ", ""))
    forward = encode_3761(Frame3761(0x10, encode_units([Unit(0x10, 1, 0, {
        "port": 2, "content": meter}, True)]), up=True, prm=False, func=8, region="0171",
        terminal=2082))
    login = "683200320068C97101220800027800000100E016"
    out = cli("decode", "--protocol", "1376.1", "--json", "00 11", login, forward.hex(),
              env=env_with_path)
    assert out.returncode == 0, out.stderr
    items = json.loads(out.stdout)
    assert items[0]["garbage"] == "00 11"
    assert items[1]["afn"] == "02 link test" and items[1]["units"] == [{"item": "F1", "point": "p0"}]
    unit = items[2]["units"][0]
    assert unit["port"] == 2 and unit["meter_frame"][0]["name"] == "voltage_a"


def test_sim_area_module_baud_sets_the_uart_bound(env_with_path):
    bounds = {}
    for baud in ("9600", "115200"):
        out = cli("sim", "area", "--meters", "30", "--medium", "hplc", "--hours", "0.3",
                  "--seed", "2", "--module-baud", baud, "--json", env=env_with_path)
        assert out.returncode == 0, out.stderr
        report = json.loads(out.stdout)
        assert report["module_baud"] == int(baud) and report["read"] == 30
        assert report["lower_bound_s"] >= report["uart_bound_s"] > 0
        bounds[baud] = report["uart_bound_s"]
    assert bounds["9600"] == pytest.approx(12 * bounds["115200"], rel=1e-2)
    out = cli("sim", "area", "--module-baud", "4800", env=env_with_path)
    assert out.returncode != 0
