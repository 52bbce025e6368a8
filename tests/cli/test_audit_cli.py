"""``gridedge audit``: a day's missed-reading list and its ERC events from the agent's SQLite
file, as JSON; a day that is no date is named."""
import json

from edge import validate as V
from edge.store import Reading, Store
from tests.cli.test_serving import cli
from tests.edge.test_audit import A, B, C, commit, freeze

CONFIG = """[agent]
store = "agent.sqlite"
[[port]]
name = "p"
url = "loop://"
[[meter]]
addr = "%s"
port = "p"
[[meter]]
addr = "%s"
port = "p"
[[meter]]
addr = "%s"
port = "p"
""" % (A, B, C)


def test_the_missed_list_and_events_come_out_as_json(tmp_path, env_with_path):
    store = Store(tmp_path / "agent.sqlite")
    commit(store, [freeze(A, "2026-01-05", 100.0), freeze(B, "2026-01-05", 100.0)])
    commit(store, [freeze(A, "2026-01-06", 101.0), freeze(B, "2026-01-06", 90.0, [V.BACKWARDS]),
                   Reading(C, "daily_freeze", 0x05060101, "2026-01-06", None, "timeout")])
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("audit", "--config", str(cfg), "--day", "2026-01-06", env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert [(m["addr"], m["point"], m["kind"], m["cause"]) for m in got["missed"]] == [
        (B, 2, "wrong", "flagged"), (C, 3, "missed", "phantom")]
    assert got["missed_causes"] == {"flagged": 1, "phantom": 1} and got["module_resets"] == []
    assert [(e["addr"], e["erc"], e["before"], e["after"]) for e in got["events"]] == [
        (B, 27, 100.0, 90.0)]
    out = cli("audit", "--config", str(cfg), "--day", "2026-02-30", env=env_with_path)
    assert out.returncode == 2 and "2026-02-30" in out.stderr
