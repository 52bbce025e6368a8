"""Kill the real agent with SIGKILL while it writes hard, restart it, and check the store."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from edge.store import Store

START = "2026-01-02 00:05"


@pytest.mark.timeout(120)
def test_sigkill_during_heavy_writes_loses_no_confirmed_reading(tmp_path, env_with_path):
    server = subprocess.Popen([sys.executable, "-m", "hil.cli", "meters", "serve", "--pty",
                               "--count", "40", "--seed", "2", "--start", START],
                              stdout=subprocess.PIPE, text=True, env=env_with_path)
    try:
        path = json.loads(server.stdout.readline())["serving"]
        cfg = tmp_path / "agent.toml"
        cfg.write_text('[agent]\nstore = "agent.sqlite"\n[tasks]\nrealtime_s = 1\n'
                       '[[port]]\nname = "p1"\nurl = "%s"\n' % path
                       + "".join('[[meter]]\naddr = "%012d"\nport = "p1"\n' % (i + 1)
                                 for i in range(40)))
        cmd = [sys.executable, "-m", "hil.cli", "agent", "--config", str(cfg), "--epoch", START,
               "--print-commits"]
        agent = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env_with_path)
        committed = []
        deadline = time.monotonic() + 60
        while len(committed) < 300 and time.monotonic() < deadline:
            line = agent.stdout.readline()
            if line.startswith('{"committed"'):
                committed += json.loads(line)["committed"]
        os.kill(agent.pid, signal.SIGKILL)          # mid-run: commits are flowing
        agent.wait(10)
        assert len(committed) >= 300
        restart = [a if a != START else "2026-01-02 00:10" for a in cmd[:-1]]
        again = subprocess.run(restart + ["--duration", "2"], capture_output=True, text=True,
                               env=env_with_path, timeout=60)
        assert again.returncode == 0, again.stderr
    finally:
        server.terminate()
        server.wait(10)
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
