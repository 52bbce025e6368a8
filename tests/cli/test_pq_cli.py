"""``gridedge pq``: a day's voltage statistics from the agent's SQLite file, as JSON."""
import json

from edge.store import Store
from tests.cli.test_audit_cli import CONFIG
from tests.cli.test_serving import cli
from tests.edge.test_audit import A
from tests.edge.test_pq import Q, T0, commit, realtime


def test_the_days_statistics_come_out_as_json(tmp_path, env_with_path):
    store = Store(tmp_path / "agent.sqlite")
    for k, v in enumerate([220.0] * 10 + [240.0] * 2 + [221.0] * 84 + [222.0]):
        commit(store, [realtime(A, T0 + k * Q, v)])
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("pq", "--config", str(cfg), "--day", "2026-01-06", env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    (m,) = got["meters"]
    assert (m["addr"], m["point"], m["stored"], m["over_min"], m["max_v"]) == (
        A, 1, True, 30.0, 240.0)
    assert m["max_at"] == "2026-01-06 02:30:05" and m["rate"] == round(94 / 96, 4)
    out = cli("pq", "--config", str(cfg), "--day", "06-01-2026", env=env_with_path)
    assert out.returncode == 2 and "06-01-2026" in out.stderr


def test_a_three_phase_meter_shows_its_phases_alarms_and_month(tmp_path, env_with_path):
    from tests.edge import test_pq_phases as P
    store = Store(tmp_path / "agent.sqlite")
    for k in range(97):
        change = {"voltage": [229.0, 0.8, 227.0]} if 40 <= k < 44 else {}
        P.commit(store, P.realtime(T0 + k * Q, **change))
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("pq", "--config", str(cfg), "--day", "2026-01-06", env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    (m,) = got["meters"]
    assert m["phases"]["b"]["under_min"] == 60.0 and m["phases"]["b"]["min_at"].startswith(
        "2026-01-06 10:")
    assert [(a["erc"], a["phase"], a["kind"], a["began"]) for a in got["alarms"]] == [
        (10, "b", "loss", True), (10, "b", "loss", False)]
    out = cli("pq", "--config", str(cfg), "--month", "2026-01", env=env_with_path)
    assert out.returncode == 0, out.stderr
    month = json.loads(out.stdout)
    assert month["meters"][0]["days"] == 1 and len(month["alarms"]) == 2
    for bad in (["--month", "2026-13"], [], ["--day", "2026-01-06", "--month", "2026-01"]):
        out = cli("pq", "--config", str(cfg), *bad, env=env_with_path)
        assert out.returncode == 2 and "--" in out.stderr
