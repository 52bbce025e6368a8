"""Field faults against the unmodified agent in virtual time (issue 21): a carrier module that
resets and forgets its slave archive, an RS-485 meter wired A/B swapped, a meter whose flat
clock battery lets its clock restart from 2000-01-01 at power-up. The simulated module and
meters are the ground truth."""
import simpy

from edge import module_reset
from edge.agent import Agent
from edge.archive import Archive
from edge.plan import Settings
from edge.store import Store
from meter_sim.faults import CLOCK_RESET_EPOCH, area_faults, firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from plc_channel.module_faults import schedule_resets
from protocols.civil import DAY, from_civil, iso
from hil.agent_run import PORT, area_archive
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY


def _agent(area, env, password=False, **settings):
    store = Store(":memory:", durable=False)
    archive = area_archive(area)
    if password:                    # the simulated meters' level-4 password: a time set allowed
        doc = archive.to_dict()
        for m in doc["meter"]:
            m.update(password="000000", control_level=4)
        archive = Archive.from_dict(doc)
    agent = Agent(archive, store, Settings(curve_every_min=0, event_every_h=0,
                                                     **settings), now=env.now, wall=env.now)
    runtime = SimRuntime(env, agent, {PORT[area.medium]: area.network})
    return agent, store, runtime


def _reset_run(forming_h):
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 12, "hplc", 3, DEFAULT_EPOCH)
    agent, store, runtime = _agent(area, env, clock_check_h=None)
    module = runtime.ports["plc"].module
    reset_at = START + 240.0                        # 00:04, before the freeze window opens
    fault = {"kind": "module_reset", "start_h": 24 + 240.0 / 3600.0}
    if forming_h:
        fault["end_h"] = fault["start_h"] + forming_h
    schedule_resets(env, module, area_faults([fault], DEFAULT_EPOCH))
    env.run(until=reset_at + 1.0)
    assert module.nodes == {}                       # the module forgot its archive
    env.run(until=START + 3 * 3600.0)
    return agent, store, module, reset_at


def test_a_module_reset_is_noticed_the_table_synced_again_and_the_time_lost_kept():
    agent, store, module, reset_at = _reset_run(0)
    assert len(module.nodes) == 12
    [w] = module_reset.windows(store)
    assert w["port"] == "plc" and reset_at < w["at"] < reset_at + 10.0
    assert w["at"] < w["synced_at"] <= w["read_at"] and 0 < w["lost_s"] <= w["unread_s"] < 600.0
    assert agent.counters["module_resets"] == 1
    assert agent.buses["plc"].ready
    assert len(store.read_addrs("daily_freeze", iso(START - DAY)[:10])) == 12


def test_the_time_lost_to_a_reset_runs_until_the_network_is_formed_again():
    agent, store, module, reset_at = _reset_run(1.0)
    [w] = module_reset.windows(store)
    assert 0 < w["lost_s"] < 600.0 and 3600.0 <= w["unread_s"] < 3600.0 + 900.0
    assert len(store.read_addrs("daily_freeze", iso(START - DAY)[:10])) == 12


def test_an_rs485_meter_wired_ab_swapped_answers_only_garbage():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 4, "rs485", 2, DEFAULT_EPOCH,
                      [{"kind": "ab_swapped", "meters": [1], "start_h": 0}])
    agent, store, _ = _agent(area, env, clock_check_h=None, freeze_deadline_h=0.5)
    env.run(until=START + 1800.0)
    bad = firmware(area.meters[1]).addr[::-1].hex()
    got = {r.addr: r.quality for r in store.readings(task="daily_freeze")}
    assert got[bad] == "garbled"
    assert sum(q == "ok" for a, q in got.items() if a != bad) == 3


def test_a_flat_clock_battery_restarts_the_clock_from_2000_and_the_agent_corrects_it():
    env = simpy.Environment(initial_time=START)
    up = START + 3 * 3600.0
    area = build_area(env, 3, "rs485", 2, DEFAULT_EPOCH,
                      [{"kind": "clock_battery", "meters": [0], "start_h": 25, "end_h": 27}])
    meter = area.meters[0]
    assert not meter.module_alive(up - 60.0)
    meter.due(up + 1.0)
    assert abs(firmware(meter).clock.read(up + 1.0) - (CLOCK_RESET_EPOCH + 1.0)) < 0.01
    assert CLOCK_RESET_EPOCH == from_civil(2000, 1, 1)
    agent, store, _ = _agent(area, env, password=True, clock_check_h=4, clock_correct=True)
    env.run(until=START + 6 * 3600.0)
    t = env.now
    assert abs(firmware(meter).clock.read(t) - t) < 300.0        # set back to the true time
    ercs = [r for r in store.readings(task="audit_event") if r.di == 12]
    assert ercs and ercs[0].addr == firmware(meter).addr[::-1].hex()


def test_the_modules_power_up_report_during_the_first_sync_is_no_reset():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 6, "hplc", 3, DEFAULT_EPOCH)
    agent, store, runtime = _agent(area, env, clock_check_h=None)
    module = runtime.ports["plc"].module

    def power_up():
        yield env.timeout(0.3)                  # the first sync is under way
        module.report_run_mode()
    env.process(power_up())
    env.run(until=START + 900.0)
    assert module_reset.windows(store) == [] and "module_resets" not in agent.counters
    assert len(module.nodes) == 6 and agent.buses["plc"].ready
