"""A mixed area (HPLC, 698.45 share) in virtual time reads and cost-controls exactly as the same
area in pure 645: the same read rate, no wrong value, no wrongful or missed operation, the same
commands and relay moves - and the 698 meters are read and moved over 698 (protocol type 03)."""
import pytest
import simpy

from edge.agent import Agent
from edge.plan import Settings
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from hil.agent_run import PORT, area_archive
from hil.mixed import compare_mixed
from hil.scenario import Scenario
from hil.simruntime import SimRuntime

from tests.conftest import ROOT

SCENARIO = ROOT / "hil" / "scenarios" / "mixed-698.toml"


def small():
    try:
        import tomllib
    except ImportError:                 # Python 3.10
        import tomli as tomllib
    with open(SCENARIO, "rb") as f:
        doc = tomllib.load(f)
    doc["area"]["meters"] = 24
    doc["scenario"].update(hours=12, seed=1)
    return doc


def test_the_library_scenario_is_a_mixed_hplc_area_of_60_meters_40_percent_698():
    sc = Scenario.load(SCENARIO)
    assert sc.meters == 60 and sc.medium == "hplc"
    assert sc.area_kw["population"]["protocol_698_share"] == 0.4


def test_a_mixed_area_reads_and_controls_as_a_pure_645_one():
    r = compare_mixed(small())
    mixed, pure = r["mixed"], r["pure_645"]
    assert mixed["meters_698"] > 0 and pure["meters_698"] == 0
    assert mixed["read_rate"] == pure["read_rate"] == 1.0
    assert mixed["daily_freeze_ok_698"] == mixed["meters_698"]       # every 698 meter, over 698
    for key in ("wrong_values", "wrongful_ops", "missed_ops"):
        assert mixed[key] == pure[key] == 0, key
    assert mixed["relay_moves"] == pure["relay_moves"] > 0
    assert mixed["relay_moves_698"] >= 1                               # ACTION 8000 moved one
    assert sum(mixed["commands"].values()) == sum(pure["commands"].values())
    assert mixed["commands"].get("698_done", 0) > 0
    assert set(mixed["commands"]) <= {"645_done", "698_done"}          # all verified


@pytest.mark.parametrize("medium", ["hplc", "rs485"])
def test_time_sync_reaches_the_645_and_the_698_meters_of_one_port(medium):
    start = DEFAULT_EPOCH + DAY + 2 * 3600.0
    env = simpy.Environment(initial_time=start)
    area = build_area(env, 16, medium, 2, DEFAULT_EPOCH, population={"protocol_698_share": 0.5})
    fws = [firmware(m) for m in area.meters]
    assert {fw.protocol for fw in fws} == {698, 2007}
    for fw in fws:                                      # 2 minutes fast: within the 5-minute rule
        fw.clock.set(env.now, fw.clock.read(env.now) + 120.0)
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=2.5,
                        freeze_deadline_h=0.5)
    store = Store(":memory:", durable=False)
    agent = Agent(area_archive(area), store, settings, now=env.now, wall=env.now)
    SimRuntime(env, agent, {PORT[medium]: area.network})
    env.run(until=start + 3600.0)
    checks = [r for r in store.readings(task="clock") if r.quality == "ok"]
    assert len(checks) == 16
    assert max(abs(r.value["deviation_s"]) for r in checks) < 5.0
    assert all(abs(fw.clock.read(env.now) - env.now) < 5.0 for fw in fws)
    assert "time_sync_refused" not in agent.counters
