"""A 698 reply too long for one frame, in real time on a pty: the agent process reads a day's
load curve (96 rows of 5002) that the meter sends as GET-Response-Next blocks in link fragments,
confirming each fragment and asking each block, and stores what the agent in virtual time does."""
import pytest

from edge.plan import Settings
from hil.agent_run import run_agent
from tests.agent_process import agent_toml, run_agent_process, served, stored

SEED = 3
METERS = 2
START = "2026-01-02 00:05"
DAY_CURVE = {"curve_every_min": 1440, "curve_interval_min": 15, "event_every_h": 0,
             "clock_check_h": -1}


def curves(store):
    return {r.addr: r.value for r in store.readings(task="load_curve") if r.quality == "ok"}


@pytest.mark.timeout(60)
def test_the_agent_reads_a_day_curve_in_blocks_and_fragments_on_a_pty(tmp_path, env_with_path):
    _, agent = run_agent(METERS, "rs485", SEED, hours=1, settings=Settings(**DAY_CURVE),
                         population={"protocol_698_share": 1.0})
    expected = curves(agent.store)
    assert len(expected) == METERS
    for v in expected.values():
        assert len(v["values"]) == 96 and sum(x is not None for x in v["values"]) > 90
    with served(env_with_path, "meters", "serve", "--pty", "--count", str(METERS), "--seed",
                str(SEED), "--start", START, "--protocol", "698") as hello:
        cfg = agent_toml(tmp_path / "agent.toml", hello["serving"],
                         ["%012d" % (i + 1) for i in range(METERS)], DAY_CURVE,
                         meter_extra='protocol = "698.45"\n')
        run_agent_process(cfg, START, 5, env_with_path)
    assert stored(tmp_path / "agent.sqlite", curves) == expected
