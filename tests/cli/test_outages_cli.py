"""``gridedge outages`` and ``gridedge topology``: the outages and the day's topology from the
agent's SQLite file, as JSON; a bad day is a one-line error with exit code 2."""
import json

from edge import outages, topology_days
from tests.cli.test_audit_cli import CONFIG
from tests.cli.test_serving import cli
from tests.edge.test_outages import LEAF1, LEAF2, RELAY, T, put, store_with_tree


def test_outages_and_the_topology_of_a_day_come_out_as_json(tmp_path, env_with_path):
    store, _ = store_with_tree(tmp_path)
    put(store, [(LEAF1, T, T + 1800), (LEAF2, T + 4, T + 1790)])
    outages.regroup(store, "p", 10)
    topology_days.save_day(store, "p", T)
    store.close()
    cfg = tmp_path / "agent.toml"
    cfg.write_text(CONFIG)
    out = cli("outages", "--config", str(cfg), "--day", "2026-01-06", env=env_with_path)
    assert out.returncode == 0, out.stderr
    (o,) = json.loads(out.stdout)["outages"]
    assert (o["kind"], o["parent"], o["count"], o["minutes"], o["start"]) == (
        "branch", RELAY, 2, 30.0, "2026-01-06 10:00:00")
    out = cli("topology", "--config", str(cfg), "--day", "2026-01-06", env=env_with_path)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert len(got["nodes"]) == 10 and got["changes"] is None
    assert {n["addr"]: n["proxy"] for n in got["nodes"]}[LEAF1] == RELAY
    bad = cli("topology", "--config", str(cfg), "--day", "06.01.2026", env=env_with_path)
    assert bad.returncode == 2 and "--day" in bad.stderr and "Traceback" not in bad.stderr


# 06F5 as the ZC3750 CCO firmware sends a power-off (docs/outages.md): device type 02 (HPLC
# unit), protocol 04, L = 13, event type 01, the addresses of meters 000000000001 and ..02
POWER_OFF_06F5 = ("68 1F 00 C3 00 00 00 00 00 07 06 10 00 02 04 0D 01 01 00 00 00 00 00"
                  " 02 00 00 00 00 00 F7 16")


def test_decode_names_a_power_off_report_and_its_meters(env_with_path):
    out = cli("decode", "--protocol", "1376.2", "--json", *POWER_OFF_06F5.split(),
              env=env_with_path)
    assert out.returncode == 0, out.stderr
    (item,) = json.loads(out.stdout)
    assert (item["afn_fn"], item["device"], item["power_event"], item["meters"]) == (
        "AFN06 F5", 2, "power off", ["000000000001", "000000000002"])
