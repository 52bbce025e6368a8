"""``gridedge prepaid price|campaigns`` on a real SQLite store: a bad file is refused whole
(exit 2, every problem named, nothing stored), a good one posts once, the same id again with
other content is refused."""
import json

from click.testing import CliRunner

from edge.prepaid.campaign import Campaigns
from edge.store import Store
from hil.cli import main

AGENT = """
[agent]
store = "{store}"
[prepaid]
every_min = 15
[[port]]
name = "rs485-1"
url = "loop://"
medium = "rs485"
[[meter]]
addr = "000000000001"
port = "rs485-1"
prepaid = "local"
customer = "000000000001"
[[meter]]
addr = "000000000002"
port = "rs485-1"
prepaid = "remote"
customer = "C2"
tariff = "flat"
"""
GOOD = """
[[campaign]]
id = "2099-ladder"
effective = "2099-01-01 00:00"
[campaign.tariff]
kind = "ladder"
blocks = [[2760, 0.4883], [4800, 0.5383], ["none", 0.7883]]

[[campaign]]
id = "2099-flat-list"
effective = "2099-01-01 00:00"
meters = ["000000000002"]
[campaign.tariff]
kind = "flat"
price = 0.6
"""
BAD = """
[[campaign]]
id = "x"
effective = "2027-02-30 00:00"
meters = ["000000000009"]
[campaign.tariff]
kind = "tou"
prices = [1, 2]
"""


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_price_file_is_checked_whole_then_posted_once(tmp_path):
    store = tmp_path / "agent.sqlite"
    cfg = tmp_path / "agent.toml"
    cfg.write_text(AGENT.format(store=store))
    bad, good = tmp_path / "bad.toml", tmp_path / "prices.toml"
    bad.write_text(BAD)
    good.write_text(GOOD)
    out = run("prepaid", "price", "--config", str(cfg), "--file", str(bad))
    assert out.exit_code == 2
    for what in ("effective", "prices", "000000000009"):
        assert what in out.output
    db = Store(str(store))
    assert Campaigns(db.db).all() == []
    db.close()
    out = run("prepaid", "price", "--config", str(cfg), "--file", str(good))
    assert out.exit_code == 0, out.output
    lines = [json.loads(x) for x in out.output.splitlines()]
    assert lines == [{"campaign": "2099-ladder", "posted": True, "meters": 2},
                     {"campaign": "2099-flat-list", "posted": True, "meters": 1}]
    again = run("prepaid", "price", "--config", str(cfg), "--file", str(good))
    assert [json.loads(x)["posted"] for x in again.output.splitlines()] == [False, False]
    good.write_text(GOOD.replace("price = 0.6", "price = 0.7"))
    clash = run("prepaid", "price", "--config", str(cfg), "--file", str(good))
    assert clash.exit_code == 2 and "2099-flat-list" in clash.output
    shown = json.loads(run("prepaid", "campaigns", "--config", str(cfg)).output)
    assert [(c["id"], c["meters"]["pending"]) for c in shown] == [
        ("2099-flat-list", 1), ("2099-ladder", 2)]
    assert shown[0]["tariff"] == {"kind": "flat", "price": 0.6}
