"""A 698 reply too long for one frame, in real time on a pty: the agent process reads a day's
load curve (96 rows of 5002) that the meter sends as GET-Response-Next blocks in link fragments,
confirming each fragment and asking each block, and stores what the agent in virtual time does."""
import json
import subprocess
import sys

import pytest

from edge.plan import Settings
from edge.store import Store
from hil.agent_run import run_agent

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
    server = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", str(METERS), "--seed", str(SEED), "--start", START,
                               "--protocol", "698"], stdout=subprocess.PIPE, text=True,
                              env=env_with_path)
    try:
        hello = json.loads(server.stdout.readline())
        meters = "\n".join('[[meter]]\naddr = "%012d"\nport = "p1"\nprotocol = "698.45"\n'
                           % (i + 1) for i in range(METERS))
        cfg = tmp_path / "agent.toml"
        cfg.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\n%s\n[[port]]\nname = "p1"\n'
                       'url = "%s"\n%s' % ("\n".join("%s = %s" % kv for kv in DAY_CURVE.items()),
                                           hello["serving"], meters))
        out = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config", str(cfg),
                              "--epoch", START, "--duration", "5"],
                             capture_output=True, text=True, env=env_with_path, timeout=40)
        assert out.returncode == 0, out.stderr
    finally:
        server.terminate()
        server.wait(10)
    store = Store(tmp_path / "agent.sqlite")
    try:
        assert curves(store) == expected
    finally:
        store.close()
