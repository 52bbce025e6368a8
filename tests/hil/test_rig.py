"""A lab rig with our own agent process as the concentrator under test: the rig serves the
simulated area on real ptys (the carrier module in 1376.2 with three more meters on RS-485, or
an RS-485 area's meters) and is the
master station on 127.0.0.1; it sets the agent's archive over 1376.1, checks the daily freezes
the agent delivers against the simulated meters' own, and plays master-side cost control
(trips and closes forwarded through the agent) judged by the meters' true relay moves."""
import json
import subprocess
import sys

import pytest

START = "2026-01-06 00:01"
PASSWORD = "0123456789abcdef" * 2
SCENARIO = """
[scenario]
name = "rig-%(medium)s"
seed = 2
start = "%(start)s"
[area]
meters = 8
medium = "%(medium)s"
[prepaid]
opening = [-3.0, 8.0]          # some customers are due a trip at once; payments come later
friendly = false
keep_power = 0.2
stuck = 0
[rig]
%(wired)s
password = "%(password)s"
control_every_s = 1
retry_s = 8
settle_s = 6
[[gate]]
metric = "read_rate"
op = ">="
value = 1.0
[[gate]]
metric = "wrongful_ops"
op = "=="
value = 0
[[gate]]
metric = "missed_ops"
op = "=="
value = 0
"""
@pytest.mark.timeout(120)
@pytest.mark.parametrize("medium", ["hplc", "rs485"])
def test_rig_checks_a_concentrator_under_test_against_ground_truth(medium, tmp_path,
                                                                   env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    scenario = tmp_path / "rig.toml"
    mixed = medium != "rs485"
    scenario.write_text(SCENARIO % {"medium": medium, "start": START, "password": PASSWORD,
                                    "wired": "rs485_meters = 3" if mixed else ""})
    rig = subprocess.Popen(cli + ["hil", "rig", str(scenario), "--listen", "127.0.0.1:0",
                                  "--duration", "25", "--every", "5",
                                  "--report", str(tmp_path / "rep"),
                                  "--agent-toml", str(tmp_path / "agent.toml")],
                           stdout=subprocess.PIPE, text=True, env=env_with_path)
    agent = None
    try:
        info = json.loads(rig.stdout.readline())
        cfg = info["agent_toml"]
        assert 'medium = "%s"' % medium in open(cfg).read()
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "35"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env_with_path)
        rig.wait(timeout=60)
        lines = [json.loads(x) for x in rig.stdout.read().strip().splitlines()]
        summary = lines[-1]
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
    assert report["meters"] == (11 if mixed else 8)
    # read times are the meters' own answers, from the agent's first freeze read; the master
    # has each value only after that
    assert 0 <= report["completion_s"] <= report["delivered_s"] < 25
    if mixed:       # the module's meters by relay depth, the RS-485 ones on their own
        assert report["read_rate_rs485"] == 1.0
        assert sum(d["meters"] for d in report["read_rate_by_depth"].values()) == 8
        # the bound is taken at the scenario's module UART rate, and says what set it
        assert report["module_baud"] == 9600 and report["uart_bound_s"] > 0
        assert report["lower_bound_s"] >= max(report["uart_bound_s"],
                                              report["channel_airtime_bound_s"])
    else:
        assert report["uart_bound_s"] is None and report["module_baud"] is None
    assert (tmp_path / "rep" / "report.html").read_text().startswith("<!doctype html>")
    # the KPIs in real time: a line every 5 s while the concentrator works
    snaps = [x["snapshot"] for x in lines if "snapshot" in x]
    assert len(snaps) >= 3 and snaps[0]["clock"] < snaps[-1]["clock"]
    assert snaps[-1]["read_rate"] == 1.0
    pre = report["prepaid"]
    # seed 2: customers start below zero (trips) and some of them pay (closes) in the run
    assert pre["trips"] >= 2 and pre["closes"] >= 1 and pre["waiting"] == 0, pre
    assert report["wrongful_ops"] == 0 and report["missed_ops"] == 0
    assert report["trip_latency_s"]["n"] == pre["trips"]
    assert report["reconnect_latency_s"]["n"] == pre["closes"]
    assert pre["answers"] == {"ok": pre["sends"]}
    assert 0 <= pre["delivery_latency_s"]["max"] < 20      # send to the relay's true move
