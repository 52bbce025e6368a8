"""One end-to-end test, run both ways: the agent in virtual time against the simulator, and the
agent process in real time against `gridedge meters serve` (RS-485 on a pty) and against the
emulated 1376.2 module of `gridedge sim module` (HPLC on a pty). The daily freezes must match."""
import json

import pytest

from edge.plan import Settings
from hil.agent_run import run_agent
from tests.agent_process import agent_toml, run_agent_process, served, stored

SEED = 3
METERS = 8
START = "2026-01-02 00:05"          # the agent's and the meters' clock: the freeze window is open
PERIOD = "2026-01-01"
FREEZE_ONLY = {"curve_every_min": 0, "event_every_h": 0, "clock_check_h": -1}


def freezes(store):
    return {r.addr: (r.value["kwh"], r.value["time"]) for r in store.readings(task="daily_freeze")
            if r.quality == "ok" and r.period == PERIOD}


def virtual(medium):
    report, agent = run_agent(METERS, medium, SEED, hours=1, settings=Settings(**FREEZE_ONLY))
    assert report["read_rate"] == 1.0
    return freezes(agent.store)


def real(tmp_path, env, server_cmd, medium, parse_path, duration):
    with served(env, *server_cmd, hello=parse_path) as path:
        cfg = agent_toml(tmp_path / "agent.toml", path, ["%012d" % (i + 1) for i in range(METERS)],
                         FREEZE_ONLY, port_extra='medium = "%s"\n' % medium)
        out = run_agent_process(cfg, START, duration, env)
        assert json.loads(out.splitlines()[0])["agent"] == "running"
    return stored(tmp_path / "agent.sqlite", freezes)


@pytest.mark.timeout(120)
def test_rs485_agent_reads_the_same_freezes_in_virtual_and_real_time(tmp_path, env_with_path):
    expected = virtual("rs485")
    assert len(expected) == METERS
    got = real(tmp_path, env_with_path,
               ["meters", "serve", "--pty", "--count", str(METERS), "--seed", str(SEED),
                "--start", START], "rs485", lambda line: json.loads(line)["serving"], 4)
    assert got == expected


@pytest.mark.timeout(120)
def test_carrier_agent_reads_the_same_freezes_in_virtual_and_real_time(tmp_path, env_with_path):
    expected = virtual("hplc")
    assert len(expected) == METERS
    got = real(tmp_path, env_with_path,
               ["sim", "module", "--meters", str(METERS), "--medium", "hplc", "--seed", str(SEED),
                "--epoch", START, "--duration", "60"], "hplc",
               lambda line: line.rsplit(" on ", 1)[1].strip(), 8)
    assert got == expected
