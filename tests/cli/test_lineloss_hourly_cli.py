"""``gridedge lineloss --hourly``: the hours an agent stored, from its SQLite file, as JSON."""
import json

from edge.lineloss import close_hours
from edge.store import Store
from tests.cli.test_lineloss_cli import CONFIG
from tests.cli.test_serving import cli
from tests.edge.test_lineloss import archive
from tests.edge.test_lineloss_hourly import fill


def test_the_stored_hours_come_out_as_json(tmp_path, env_with_path):
    store = Store(tmp_path / "agent.sqlite")
    fill(store, hours=2)
    close_hours(store, archive(), "2026-01-06", 900.0, at=1767657600.0)
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("lineloss", "--config", str(cfg), "--hourly", env=env_with_path)
    assert out.returncode == 0, out.stderr
    hours = json.loads(out.stdout)["hours"]
    assert len(hours) == 24 and hours[0]["period"] == "2026-01-06 00:00"
    assert [h["status"] for h in hours[:3]] == ["complete", "complete", "no_supply"]
    assert hours[0]["computed_at"].startswith("2026-01-06")
