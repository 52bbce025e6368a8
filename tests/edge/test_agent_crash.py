"""Kill the real agent with SIGKILL while it writes hard, 20 times in a row, restart it, and
check the store: intact, and every reading reported as committed is there (an ok one still ok)."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from edge.store import Store
from protocols.civil import iso, parse_local

START = "2026-01-02 00:05"
KILLS = 20
COMMITS_PER_RUN = 12            # readings committed before each kill: the writes are flowing


def _run_until_commits(cmd, env, deadline):
    """Start the agent, collect its commit lines until COMMITS_PER_RUN readings, kill -9."""
    agent = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    committed = []
    try:
        while len(committed) < COMMITS_PER_RUN and time.monotonic() < deadline:
            line = agent.stdout.readline()
            if not line:
                break
            if line.startswith('{"committed"'):
                committed += json.loads(line)["committed"]
    finally:
        os.kill(agent.pid, signal.SIGKILL)          # mid-run: commits are flowing
        agent.wait(10)
        agent.stdout.close()
    return committed


@pytest.mark.timeout(120)
def test_sigkill_20_times_during_heavy_writes_loses_no_committed_reading(tmp_path, env_with_path):
    server = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", "40", "--seed", "2", "--start", START],
                              stdout=subprocess.PIPE, text=True, env=env_with_path)
    committed, kills = [], 0
    try:
        path = json.loads(server.stdout.readline())["serving"]
        cfg = tmp_path / "agent.toml"
        cfg.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\nrealtime_s = 1\n'
                       '[[port]]\nname = "p1"\nurl = "%s"\n' % path
                       + "".join('[[meter]]\naddr = "%012d"\nport = "p1"\n' % (i + 1)
                                 for i in range(40)))
        deadline = time.monotonic() + 90
        for k in range(KILLS):                      # each run's calendar a little later
            epoch = iso(parse_local(START) + 10 * k)[:16]
            got = _run_until_commits([sys.executable, "-m", "hil.cli", "agent", "--config",
                                      str(cfg), "--epoch", epoch, "--print-commits"],
                                     env_with_path, deadline)
            assert got, "run %d committed nothing" % k
            committed += got
            kills += 1
        again = subprocess.run([sys.executable, "-m", "hil.cli", "agent", "--config", str(cfg),
                                "--epoch", "2026-01-02 00:20", "--duration", "2"],
                               capture_output=True, text=True, env=env_with_path, timeout=60)
        assert again.returncode == 0, again.stderr
    finally:
        server.terminate()
        server.wait(10)
    assert kills == KILLS
    store = Store(tmp_path / "agent.sqlite")
    try:
        assert store.integrity() == "ok"
        held = {(r.addr, r.task, r.period): r.quality for r in store.readings()}
        missing = [c for c in committed if (c[0], c[1], c[2]) not in held]
        assert missing == []
        worse = [c for c in committed if c[3] == "ok" and held[(c[0], c[1], c[2])] != "ok"]
        assert worse == []
        assert len(held) > len({(c[0], c[1], c[2]) for c in committed})   # the restart read on
    finally:
        store.close()
