"""The agent process in real time reads a `gridedge meters serve --protocol 698` bus on a pty
(RS-485, 698 framing): the same daily freezes as the agent in virtual time on the same meters."""
import pytest

from edge.plan import Settings
from hil.agent_run import run_agent
from tests.agent_process import agent_toml, run_agent_process, served, stored

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
    with served(env_with_path, "meters", "serve", "--pty", "--count", str(METERS), "--seed",
                str(SEED), "--start", START, "--protocol", "698") as hello:
        assert hello["meters_698"] == METERS
        cfg = agent_toml(tmp_path / "agent.toml", hello["serving"],
                         ["%012d" % (i + 1) for i in range(METERS)], FREEZE_ONLY,
                         meter_extra='protocol = "698.45"\n')
        run_agent_process(cfg, START, 4, env_with_path)
    assert stored(tmp_path / "agent.sqlite", freezes) == expected
