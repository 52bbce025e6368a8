"""Prepaid cost control in real time: the agent process trips firmware meters served on a pty,
`gridedge prepaid pay` leaves a payment in its inbox, and the agent closes the relay again;
each step verified by the meters' status word 3 read back and journaled."""
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
[prepaid.tariff.flat]
price = 1.0
[prepaid.defaults]
balance = 0.0
trip = 0.0
alarm = 0.0
close_allowed = 5.0
direct_close = true
[[port]]
name = "p1"
url = "%s"
[[meter]]
addr = "000000000001"
port = "p1"
prepaid = "remote"
tariff = "flat"
customer = "C1"
[[meter]]
addr = "000000000002"
port = "p1"
"""


def wait_for(store, predicate, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        commands = Journal(store).all()
        if predicate(commands):
            return commands
        time.sleep(0.2)
    raise AssertionError("journal never got there: %r" % Journal(store).all())


@pytest.mark.timeout(120)
def test_real_agent_trips_then_reconnects_after_a_cli_payment(tmp_path, env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    server = subprocess.Popen(cli + ["meters", "serve", "--pty", "--count", "2", "--seed", "3",
                                     "--start", START], stdout=subprocess.PIPE, text=True,
                              env=env_with_path)
    agent = None
    try:
        path = json.loads(server.stdout.readline())["serving"]
        cfg = tmp_path / "agent.toml"
        cfg.write_text(CONFIG % path)
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "60"], stdout=subprocess.PIPE, text=True,
                                 env=env_with_path)
        assert json.loads(agent.stdout.readline())["agent"] == "running"
        store = Store(tmp_path / "agent.sqlite")
        wait_for(store, lambda cs: any(c.action == "trip" and c.state == "done" for c in cs), 30)
        bad = tmp_path / "bad.csv"
        bad.write_text("receipt-0,C1,ten\n")
        out = subprocess.run(cli + ["prepaid", "pay", "--config", str(cfg), "--file", str(bad)],
                             capture_output=True, text=True, env=env_with_path, timeout=30)
        assert out.returncode == 2 and "bad.csv:1: amount 'ten' is not a number" in out.stderr
        payments = tmp_path / "payments.csv"
        payments.write_text("# id,customer,amount\nreceipt-1,C1,10\n")
        out = subprocess.run(cli + ["prepaid", "pay", "--config", str(cfg), "--file", str(payments)],
                             capture_output=True, text=True, env=env_with_path, timeout=30)
        assert out.returncode == 0 and json.loads(out.stdout)["posted"], out.stderr
        done = wait_for(store, lambda cs: any(c.action == "direct_close" and c.state == "done"
                                              for c in cs), 30)
        assert {c.meter for c in done} == {"000000000001"}       # the other meter is not prepaid
        status = subprocess.run(cli + ["prepaid", "status", "--config", str(cfg), "--commands"],
                                capture_output=True, text=True, env=env_with_path, timeout=30)
        report = json.loads(status.stdout)
        assert report["balances"]["C1"] == pytest.approx(10.0, abs=0.05) and report["inbox"] == []
    finally:
        for p in (agent, server):
            if p is not None:
                p.terminate()
                p.wait(10)
