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


def test_decode_names_the_area_result_a_module_reports(env_with_path):
    # 06F5 from the module: device 1, protocol 2, L 13H, the hand-laid result frame of
    # tests/protocols/test_gdw1376_2_area.py
    capture = ("68 31 00 C3 04 00 00 00 00 01 89 00 00 00 00 00 00 00 00 00 00 00 06 10 00 01 02"
               " 13 68 89 00 00 00 00 00 68 9E 07 34 CC CC 33 33 33 33 96 16 BF 16").split()
    out = cli("decode", "--json", "--protocol", "1376.2", *capture, env=env_with_path)
    assert out.returncode == 0, out.stderr
    (frame,) = json.loads(out.stdout)
    assert frame["area_result"] == {"meter": "000000000089", "flag": 1, "foreign": True,
                                    "belongs_to_cco": "000000009999"}
