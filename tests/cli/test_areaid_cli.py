"""``gridedge areaid``: phases and foreign meters from the agent's SQLite file, as JSON; the
archived foreign meter comes first and is marked archived."""
import json

from edge import area_ident, module_facts
from edge.store import Store, transaction
from protocols.gdw1376_2 import afn as A
from tests.cli.test_audit_cli import CONFIG
from tests.cli.test_serving import cli
from tests.edge.test_audit import A as MA, B as MB

T = 1767765660.0                    # 2026-01-07 06:01:00


def test_phases_and_foreign_meters_come_out_as_json(tmp_path, env_with_path):
    store = Store(tmp_path / "agent.sqlite")
    wire = [bytes.fromhex(a)[::-1] for a in (MA, MB)]
    module_facts.save_phases(store, "p", [A.PhaseNode(wire[0], 2), A.PhaseNode(wire[1], 4)], T)
    db = area_ident._db(store)
    with transaction(db):
        db.execute("INSERT INTO foreign_meter VALUES (?,?,?,?,?,?,?,?)",
                   ("000000000777", "p", "000000009999", 0, 3, T - 60, T - 60, 1))
        db.execute("INSERT INTO foreign_meter VALUES (?,?,?,?,?,?,?,?)",
                   (MB, "p", "000000009999", 1, 1, T, T, 2))
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("areaid", "--config", str(cfg), env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert [(p["addr"], p["phase"], p["archived"]) for p in got["phases"]] == [
        (MA, 2, True), (MB, 3, True)]
    assert [(f["addr"], f["archived"], f["reports"]) for f in got["foreign"]] == [
        (MB, True, 2), ("000000000777", False, 1)]
    assert got["foreign"][0]["first_at"] == "2026-01-07 06:01:00"
