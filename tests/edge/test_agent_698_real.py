"""The agent process in real time reads a `gridedge meters serve --protocol 698` bus on a pty
(RS-485, 698 framing): the same daily freezes as the agent in virtual time on the same meters."""
import json
import subprocess
import sys

import pytest

from edge.plan import Settings
from edge.store import Store
from hil.agent_run import run_agent

SEED = 3
METERS = 6
START = "2026-01-02 00:05"
PERIOD = "2026-01-01"
FREEZE_ONLY = {"curve_every_min": 0, "event_every_h": 0, "clock_check_h": -1}


def freezes(store):
    return {r.addr: (r.value["kwh"], r.value["time"]) for r in store.readings(task="daily_freeze")
            if r.quality == "ok" and r.period == PERIOD}


@pytest.mark.timeout(120)
def test_the_agent_reads_a_698_bus_on_a_pty_as_in_virtual_time(tmp_path, env_with_path):
    report, agent = run_agent(METERS, "rs485", SEED, hours=1, settings=Settings(**FREEZE_ONLY),
                              population={"protocol_698_share": 1.0})
    assert report["read_rate"] == 1.0
    assert {m.protocol for m in agent.archive.meters.values()} == {"698.45"}
    expected = freezes(agent.store)
    assert len(expected) == METERS
    server = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", str(METERS), "--seed", str(SEED), "--start", START,
                               "--protocol", "698"], stdout=subprocess.PIPE, text=True,
                              env=env_with_path)
    try:
        hello = json.loads(server.stdout.readline())
        assert hello["meters_698"] == METERS
        meters = "\n".join('[[meter]]\naddr = "%012d"\nport = "p1"\nprotocol = "698.45"\n'
                           % (i + 1) for i in range(METERS))
        cfg = tmp_path / "agent.toml"
        cfg.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\n%s\n[[port]]\nname = "p1"\n'
                       'url = "%s"\n%s' % ("\n".join("%s = %s" % kv for kv in FREEZE_ONLY.items()),
                                           hello["serving"], meters))
        out = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config", str(cfg),
                              "--epoch", START, "--duration", "4"],
                             capture_output=True, text=True, env=env_with_path, timeout=40)
        assert out.returncode == 0, out.stderr
    finally:
        server.terminate()
        server.wait(10)
    store = Store(tmp_path / "agent.sqlite")
    try:
        assert freezes(store) == expected
    finally:
        store.close()
