"""``gridedge swaps``: the swap candidates, phantom entries and archive candidates from the
agent's SQLite file, as JSON."""
import json

from edge import module_facts, swaps
from edge.store import Store, transaction
from tests.cli.test_audit_cli import CONFIG
from tests.cli.test_serving import cli
from tests.edge.test_audit import A, B

T = 1767765660.0                    # 2026-01-07 06:01:00


def test_the_finds_come_out_as_json_and_the_successor_is_no_archive_candidate(tmp_path,
                                                                             env_with_path):
    store = Store(tmp_path / "agent.sqlite")
    new, other = "900000000006", "000000000018"
    module_facts.add_candidates(store, "p", [(bytes.fromhex(a)[::-1], 2, 1) for a in (new, other)],
                                T, "06F4")
    db = swaps._db(store)
    with transaction(db):
        db.execute("INSERT INTO swap_candidate VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   (A, new, "p", 4, T - 2 * 86400, 5999.54, "2026-01-05", 22.74, T, T - 86400, 0))
        db.execute("INSERT INTO archive_phantom VALUES (?,?,?,?)", (B, "p", T - 86400, 2))
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("swaps", "--config", str(cfg), env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    (s,) = got["swap_candidates"]
    assert (s["old_addr"], s["new_addr"], s["old_kwh"], s["new_kwh"]) == (A, new, 5999.54, 22.74)
    assert s["new_read_at"] == "2026-01-07 06:01:00"
    assert [(p["addr"], p["days"]) for p in got["phantoms"]] == [(B, 2)]
    assert [c["addr"] for c in got["archive_candidates"]] == [other]
