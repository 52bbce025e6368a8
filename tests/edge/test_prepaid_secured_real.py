"""The secured path in real time on a real pty: `meters serve --share-secured 1` meters (TEST-key
ESAM), the agent process seals a trip under an identity-authenticated session, and a payment
left by `gridedge prepaid pay` becomes a verified remote top-up of a local-wallet meter."""
import json
import subprocess
import sys
import time

import pytest

from edge.prepaid.journal import Journal
from edge.store import Store

START = "2026-01-07 12:00"          # a Wednesday noon: no friendly window
CONFIG = """
[agent]
store = "agent.sqlite"
[tasks]
curve_every_min = 0
event_every_h = 0
clock_check_h = -1
[prepaid]
every_min = 15
inbox_s = 1
audit_every_h = 0
security = "test-key"
[prepaid.tariff.flat]
price = 1.0
[prepaid.defaults]
balance = 0.0
trip = 0.0
alarm = 0.0
[[port]]
name = "p1"
url = "%s"
[[meter]]
addr = "000000000001"
port = "p1"
prepaid = "remote"
tariff = "flat"
customer = "C1"
control_level = 152
[[meter]]
addr = "000000000002"
port = "p1"
prepaid = "local"
customer = "000000000002"
control_level = 152
"""


def wait_for(look, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = look()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("never got there: %r" % (look(),))


@pytest.mark.timeout(60)
def test_sealed_trip_and_a_cli_top_up_on_secured_meters_on_a_pty(tmp_path, env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    server = subprocess.Popen(cli + ["meters", "serve", "--pty", "--count", "2", "--seed", "9",
                                     "--start", START, "--share-secured", "1"],
                              stdout=subprocess.PIPE, text=True, env=env_with_path)
    agent = None
    try:
        line = json.loads(server.stdout.readline())
        assert line["secured"] == ["000000000001", "000000000002"]
        cfg = tmp_path / "agent.toml"
        cfg.write_text(CONFIG % line["serving"])
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "40"], stdout=subprocess.PIPE, text=True,
                                 env=env_with_path)
        assert json.loads(agent.stdout.readline())["agent"] == "running"
        store = Store(tmp_path / "agent.sqlite")
        trip = wait_for(lambda: [c for c in Journal(store).all()
                                 if c.action == "trip" and c.state == "done"], 20)[0]
        assert [e[1:] for e in trip.history][0] == ["send", "sealed"]    # sealed, then read back
        out = subprocess.run(cli + ["prepaid", "pay", "--config", str(cfg), "--customer",
                                    "000000000002", "--amount", "20", "--id", "R1"],
                             capture_output=True, text=True, env=env_with_path, timeout=30)
        assert out.returncode == 0, out.stderr
        rows = wait_for(lambda: store.db.execute(
            "SELECT state, count, history FROM topup WHERE id='R1' AND state='done'").fetchall(), 20)
        state, count, history = rows[0]
        assert count == 2 and "verified" in [e[1] for e in json.loads(history)]
        out = subprocess.run(cli + ["prepaid", "status", "--config", str(cfg)],
                             capture_output=True, text=True, env=env_with_path, timeout=30)
        [topup] = json.loads(out.stdout)["topups"]
        assert (topup["id"], topup["amount"], topup["state"]) == ("R1", 20.0, "done")
    finally:
        for p in (agent, server):
            if p is not None:
                p.terminate()
                p.wait(timeout=10)
