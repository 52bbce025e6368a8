"""The rig as a master station with our agent as the concentrator under test: the rig sets it
up (archive, F1/F3/F33/F66/F68, clock, version), then either takes its uploads (push) or, with
``[uplink] active_upload = false``, asks every point's freeze and real-time energy itself
(pull); both give the same read rate, and each value says which path brought it."""
import json
import sqlite3
import subprocess
import sys

import pytest

from hil.rig_dut import agent_toml
from tests.hil.test_rig import PASSWORD, START

SCENARIO = """
[scenario]
name = "rig-master-%(mode)s"
seed = 3
start = "%(start)s"
[area]
meters = 6
medium = "rs485"
[rig]
password = "%(password)s"
%(pull)s
[[gate]]
metric = "read_rate"
op = ">="
value = 1.0
"""

MODELLED_S = 0.5


@pytest.mark.timeout(90)
@pytest.mark.parametrize("mode", ["push", "pull"])
def test_push_and_pull_only_concentrators_give_the_same_read_rate(mode, tmp_path, env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    scenario = tmp_path / "rig.toml"
    scenario.write_text(SCENARIO % {"mode": mode, "start": START, "password": PASSWORD,
                                    "pull": "pull_every_s = 2" if mode == "pull" else ""})
    rig = subprocess.Popen(cli + ["hil", "rig", str(scenario), "--listen", "127.0.0.1:0",
                                  "--duration", "18", "--report", str(tmp_path / "rep")],
                           stdout=subprocess.PIPE, text=True, env=env_with_path)
    agent = None
    store = tmp_path / "agent.sqlite"
    try:
        info = json.loads(rig.stdout.readline())
        cfg = tmp_path / "agent.toml"
        cfg.write_text(agent_toml(info, PASSWORD, store=str(store), terminal=9,
                                  active_upload=mode == "push"))
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "26"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, env=env_with_path)
        rig.wait(timeout=50)
    finally:
        for p in (agent, rig):
            if p is not None and p.poll() is None:
                p.terminate()
                p.wait(timeout=10)
    assert rig.returncode == 0
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert report["read_rate"] == 1.0 and report["wrong_values"] == 0
    assert report["period"] == "2026-01-05" and report["meters"] == 6
    assert set(report["master_setup"].values()) == {"ok"}, report["master_setup"]
    assert report["terminal_version"]["vendor"] == "GRDE"
    freezes = [v for v in report["values"] if v["item"] == "AFN0D F161"]
    assert len(freezes) == 6
    if mode == "push":
        assert report["via"] == {"push": 6, "pull": 0} and report["pulls"] == 0
    else:
        assert report["via"] == {"push": 0, "pull": 6} and report["pulls"] >= 2
        # F129 asked of every point; with no real-time reading the freeze stands in
        realtime = {v["point"]: v["value"] for v in report["values"] if v["item"] == "AFN0C F129"}
        assert realtime == {v["point"]: v["value"] for v in freezes}
    assert all(v["via"] == ("push" if mode == "push" else "pull") for v in freezes)
    # completion is modelled at the meter (its reply delay and the hops' airtime added to the
    # instant it was asked); delivery is the master's real receipt: they may cross by a little
    assert 0 <= report["completion_s"] <= report["delivered_s"] + MODELLED_S
    assert report["delivered_s"] < 18
    # the set-up is in the agent's own store: parameters and the clock set, journaled
    db = sqlite3.connect(str(store))
    kinds = [k for (k,) in db.execute("SELECT kind FROM event_log")]
    assert kinds.count("param_set") == 5 and kinds.count("clock_set") == 1
    assert {fn for (fn,) in db.execute("SELECT fn FROM terminal_param")} == {1, 3, 33, 66, 68}
    db.close()
