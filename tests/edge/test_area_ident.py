"""Area identification with the agent against the emulated module, on a real SQLite file: the
agent allows it (05F6), the module's verdicts make foreign meters, which survive a restart, are
not read, leave the read rate and the line-loss archive, and stay in the archive; a verdict of
"ours" takes a meter back; a 2013 module refuses 05F6 and nothing else changes."""
import simpy

from edge import area_ident
from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.store import Store
from hil.agent_run import PORT
from hil.simruntime import SimRuntime
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.gdw1376_2 import afn as A
from tests.edge.test_module_facts import QUIET, START

FAULTS = [{"kind": "cross_area", "meters": [4]}, {"kind": "neighbour", "meters": [5]}]


def archive_of(area):
    port = PORT[area.medium]
    return Archive.from_dict({
        "port": [{"name": port, "url": "sim:hplc", "medium": area.medium}],
        "meter": [{"addr": m.addr[::-1].hex(), "port": port} for m in area.meters[:5]]})


def run(path, edition=None, until=900.0, settings=QUIET):
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 6, "hplc", 3, DEFAULT_EPOCH, FAULTS, area_ident={"ident_h": 0.05})
    agent = Agent(archive_of(area), Store(path), settings, now=START, wall=START)
    runtime = SimRuntime(area.env, agent, {PORT["hplc"]: area.network})
    if edition is not None:
        runtime.ports[PORT["hplc"]].module.edition = edition
    env.run(until=START + until)
    return agent


def test_foreign_meters_are_kept_not_read_and_out_of_the_read_rate(tmp_path):
    path = tmp_path / "agent.sqlite"
    agent = run(path)
    assert agent.counters["area_ident_confirmed"] == 1
    rows = {r["addr"]: r for r in area_ident.foreign(agent.store)}
    assert set(rows) == {"000000000005", "000000000006"} == agent.foreign
    assert rows["000000000005"]["archived"] == 1 and rows["000000000006"]["archived"] == 0
    assert rows["000000000005"]["cco"] == "000000009999"
    agent.store.close()
    again = Agent(archive_of_stub(), Store(path), QUIET, now=START, wall=START)
    assert again.foreign == {"000000000005", "000000000006"}
    assert again.counters["foreign_not_read"] >= 1         # the windows opened at START
    assert "000000000005" in again.archive.meters and "000000000005" not in again.ours().meters
    (row,) = again.read_rate("daily_freeze", "2026-01-01")
    assert row[2] == 4                                      # 5 archived, one foreign
    result = A.AreaResult(bytes.fromhex("000000000005")[::-1], A.FLAG_OURS, b"\x01" + b"\x00" * 5)
    area_ident.on_result(again, PORT["hplc"], A.ReportEvent(2, result.body()))
    assert again.foreign == {"000000000006"}
    area_ident.on_result(again, PORT["hplc"], A.ReportEvent(2, result.body()[:-3] + b"\x00\x00\x16"))
    assert again.counters["area_result_malformed"] == 1
    again.store.close()


def archive_of_stub():
    port = PORT["hplc"]
    return Archive.from_dict({
        "port": [{"name": port, "url": "sim:hplc", "medium": "hplc"}],
        "meter": [{"addr": "%012d" % (i + 1), "port": port} for i in range(5)]})


def test_a_2013_module_refuses_and_nothing_is_claimed(tmp_path):
    agent = run(tmp_path / "agent.sqlite", edition="2013", until=900.0)
    assert agent.counters.get("area_ident_denied") == 1
    assert agent.foreign == set() and area_ident.foreign(agent.store) == []
    agent.store.close()


def test_settings_turn_identification_off_or_keep_foreign_meters_read(tmp_path):
    off = Settings.from_dict({"curve_every_min": 0, "event_every_h": 0, "clock_check_h": -1,
                              "areaid": {"enabled": False}})
    agent = run(tmp_path / "off.sqlite", settings=off)
    assert "area_ident_confirmed" not in agent.counters and agent.foreign == set()
    assert area_ident.foreign(agent.store) == []        # the module was never asked
    agent.store.close()
    listed = Settings.from_dict({"curve_every_min": 0, "event_every_h": 0, "clock_check_h": -1,
                                 "areaid": {"exclude": False}})
    agent = run(tmp_path / "listed.sqlite", settings=listed)
    assert {r["addr"] for r in area_ident.foreign(agent.store)} == {"000000000005",
                                                                    "000000000006"}
    assert agent.foreign == set() and "000000000005" in agent.ours().meters
    agent.store.close()
