"""A price campaign in real time on a real pty: `gridedge prepaid price` posts it into the
running agent's store, and the agent writes the standby price set to a `meters serve`
local-wallet meter under ESAM security (level 98 with the session's MAC), reads every item
back and shows it verified in `gridedge prepaid campaigns`."""
import json
import subprocess
import sys

import pytest

from edge.prepaid.campaign import Campaigns
from edge.store import Store
from tests.edge.test_prepaid_secured_real import CONFIG, START, wait_for

PRICES = """
[[campaign]]
id = "far-ladder"
effective = "2099-01-01 00:00"
meters = ["000000000002"]
[campaign.tariff]
kind = "ladder"
blocks = [[2760, 0.4883], [4800, 0.5383], ["none", 0.7883]]
"""


@pytest.mark.timeout(60)
def test_a_cli_campaign_is_written_and_read_back_on_a_secured_meter_on_a_pty(tmp_path,
                                                                              env_with_path):
    cli = [sys.executable, "-m", "hil.cli"]
    server = subprocess.Popen(cli + ["meters", "serve", "--pty", "--count", "2", "--seed", "9",
                                     "--start", START, "--share-secured", "1"],
                              stdout=subprocess.PIPE, text=True, env=env_with_path)
    agent = None
    try:
        line = json.loads(server.stdout.readline())
        cfg = tmp_path / "agent.toml"
        cfg.write_text(CONFIG % line["serving"])
        prices = tmp_path / "prices.toml"
        prices.write_text(PRICES)
        agent = subprocess.Popen(cli + ["agent", "--config", str(cfg), "--epoch", START,
                                        "--duration", "40"], stdout=subprocess.PIPE, text=True,
                                 env=env_with_path)
        assert json.loads(agent.stdout.readline())["agent"] == "running"
        out = subprocess.run(cli + ["prepaid", "price", "--config", str(cfg), "--file",
                                    str(prices)], capture_output=True, text=True,
                             env=env_with_path, timeout=30)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout) == {"campaign": "far-ladder", "posted": True, "meters": 1}
        store = Store(tmp_path / "agent.sqlite")
        rows = wait_for(lambda: [r for r in Campaigns(store.db).rows("far-ladder")
                                 if r[3] == "verified"], 30)
        events = [e[1] for e in rows[0][6]]
        assert events == ["posted", "write", "read_back"], rows[0]
        out = subprocess.run(cli + ["prepaid", "campaigns", "--config", str(cfg)],
                             capture_output=True, text=True, env=env_with_path, timeout=30)
        [shown] = json.loads(out.stdout)
        assert shown["id"] == "far-ladder" and shown["meters"]["verified"] == 1
    finally:
        for p in (agent, server):
            if p is not None:
                p.terminate()
                p.wait(timeout=10)
