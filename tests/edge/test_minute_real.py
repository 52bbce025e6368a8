"""Minute slots in real time on a pty: the agent process reads a 645 and a 698 meter's 1-minute
curve (0610 0601 blocks with a start; 5002 by time span) from `gridedge meters serve` and stores
per slot exactly the meters' own points."""
import json
import subprocess
import sys

import pytest

from edge.store import Store
from hil.minute_run import true_point
from meter_sim.population import build_meters
from protocols.civil import parse_local

SEED = 3
START = "2026-01-02 00:16"          # the slot 00:00-00:15 just ended: its window is open
SLOT = "2026-01-02 00:00:00"
TASKS = ('[tasks]\ncurve_every_min = 0\nevent_every_h = 0\nclock_check_h = -1\n'
         '[tasks.minute]\nevery_min = 15\n[[tasks.minute.group]]\ninterval_min = 1\n'
         'meters = ["000000000001", "000000000002"]\n')




@pytest.mark.timeout(60)
@pytest.mark.parametrize("protocol", ["645", "698"])
def test_the_agent_stores_the_meters_own_minute_points(tmp_path, env_with_path, protocol):
    server = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", "2", "--seed", str(SEED), "--start", START,
                               "--protocol", protocol, "--curve-interval", "1"],
                              stdout=subprocess.PIPE, text=True, env=env_with_path)
    archived = "645-2007" if protocol == "645" else "698.45"
    try:
        hello = json.loads(server.stdout.readline())
        meters = "".join('[[meter]]\naddr = "%012d"\nport = "p1"\nprotocol = "%s"\n'
                         % (i + 1, archived) for i in range(2))
        cfg = tmp_path / "agent.toml"
        cfg.write_text('[agent]\nstore = "agent.sqlite"\n%s[[port]]\nname = "p1"\nurl = "%s"\n%s'
                       % (TASKS, hello["serving"], meters))
        out = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config", str(cfg),
                              "--epoch", START, "--duration", "4"],
                             capture_output=True, text=True, env=env_with_path, timeout=40)
        assert out.returncode == 0, out.stderr
    finally:
        server.terminate()
        server.wait(10)
    store = Store(tmp_path / "agent.sqlite")
    try:
        got = {r.addr: r.value for r in store.readings(task="minute_curve", period=SLOT)
               if r.quality == "ok"}
    finally:
        store.close()
    share = 0.0 if protocol == "645" else 1.0
    truth = build_meters(2, SEED, parse_local("2026-01-01 00:00"), 1, protocol_698_share=share)
    t0 = parse_local(SLOT[:16])
    assert sorted(got) == ["000000000001", "000000000002"]
    for i, m in enumerate(truth):
        m.curve_interval = 60
        value = got["%012d" % (i + 1)]
        assert value["step_s"] == 60
        assert value["values"] == [true_point(m, t0 + 60 * k) for k in range(15)]
