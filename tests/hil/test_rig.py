"""A lab rig with our own agent process as the concentrator under test: the rig serves the
simulated area on a real pty (the carrier module in 1376.2, or the RS-485 meters) and is the
master station on 127.0.0.1; it sets the agent's archive over 1376.1, and the daily freezes the
agent delivers are checked against the simulated meters' own."""
import json
import subprocess
import sys

import pytest

START = "2026-01-06 00:01"
SCENARIO = """
[scenario]
name = "rig-%(medium)s"
seed = 2
start = "%(start)s"
[area]
meters = 5
medium = "%(medium)s"
[[gate]]
metric = "read_rate"
op = ">="
value = 1.0
"""
AGENT = """
[agent]
store = "agent.sqlite"
[tasks]
freeze_offset_s = 0
curve_every_min = 0
event_every_h = 0
clock_check_h = -1
[uplink]
master = "%(master)s"
region = "0171"
terminal = 7
reconnect_min_s = 0.5
[[port]]
name = "p1"
url = "%(path)s"
medium = "%(medium)s"
baud = %(baud)d
"""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("medium", ["hplc", "rs485"])
def test_rig_checks_a_concentrator_under_test_against_ground_truth(medium, tmp_path,
                                                                   env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    scenario = tmp_path / "rig.toml"
    scenario.write_text(SCENARIO % {"medium": medium, "start": START})
    rig = subprocess.Popen(cli + ["hil", "rig", str(scenario), "--listen", "127.0.0.1:0",
                                  "--duration", "20", "--report", str(tmp_path / "rep")],
                           stdout=subprocess.PIPE, text=True, env=env_with_path)
    agent = None
    try:
        info = json.loads(rig.stdout.readline())
        cfg = tmp_path / "agent.toml"
        cfg.write_text(AGENT % {"master": info["master"], "path": info["serving"],
                                "medium": medium, "baud": 9600 if medium == "hplc" else 2400})
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "30"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env_with_path)
        rig.wait(timeout=60)
        summary = json.loads(rig.stdout.read().strip().splitlines()[-1])
    finally:
        for p in (agent, rig):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    assert rig.returncode == 0, summary
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["archive_set"] and report["terminal"] == "0171-00007"
    assert report["read_rate"] == 1.0 and report["wrong_values"] == 0 and report["missing"] == 0
    assert report["period"] == "2026-01-05"
