"""``gridedge lineloss``: the days and hints an agent stored, from its SQLite file, as JSON."""
import json

from edge.lineloss import LineLossPolicy, close_day
from edge.store import Store
from tests.cli.test_serving import cli
from tests.edge.test_lineloss import DAYS, archive, fill, thief_use

CONFIG = """[agent]
store = "agent.sqlite"
[[port]]
name = "p"
url = "loop://"
"""


def test_the_stored_days_and_hints_come_out_as_json(tmp_path, env_with_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, thief_use, lambda d: 0.04 if d < 4 else 0.16)
    for period in DAYS[1:]:
        close_day(store, archive(), period, LineLossPolicy(step=0.01), at=1767657600.0)
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("lineloss", "--config", str(cfg), env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert [d["period"] for d in got["days"]] == DAYS[1:]
    assert {d["status"] for d in got["days"]} == {"complete"}
    assert got["hints"][0]["period"] == DAYS[4] and "step_change" in got["hints"][0]["reasons"]
    assert got["hints"][0]["computed_at"].startswith("2026-01-06")


def test_a_config_that_is_not_there_is_named(tmp_path, env_with_path):
    out = cli("lineloss", "--config", str(tmp_path / "nope.toml"), env=env_with_path)
    assert out.returncode == 2 and "nope.toml" in out.stderr
