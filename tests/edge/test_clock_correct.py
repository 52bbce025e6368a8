"""Targeted clock set (645 04000101/04000102 write, 698 SET 4000 2): a meter still 15 min off after the port's
broadcast (which corrects at most 5 min) is set where ``clock_correct`` is on and its archive
record holds a password; a wrong password is refused by the meter and journaled as failed, a
meter without one is left alone; with the setting off nothing is written. Virtual time, the
simulated RS-485 meters, a real SQLite store."""
import simpy

from edge import audit
from edge.agent import Agent
from edge.archive import Archive
from edge.jobs import CLOCK_SET
from edge.plan import Settings
from edge.store import Store
from edge.uplink_answers import StoreAnswers
from hil.agent_run import PORT
from hil.simruntime import SimRuntime
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY
from protocols.gdw1376_1 import erc as E

OFF_S = 900.0
PASSWORDS = ({"password": "000000", "control_level": 4}, {"password": "123456", "control_level": 4},
             {}, {"password": "000000", "control_level": 4})


def run(tmp_path, correct):
    start = DEFAULT_EPOCH + DAY
    env = simpy.Environment(initial_time=start)
    faults = [{"kind": "clock_jump", "meters": [0, 1, 2], "start_h": 1, "seconds": OFF_S}]
    area = build_area(env, 4, "rs485", 5, DEFAULT_EPOCH, faults)
    archive = Archive.from_dict({
        "port": [{"name": PORT["rs485"], "url": "sim:rs485", "medium": "rs485"}],
        "meter": [dict(pw, addr=m.addr[::-1].hex(), port=PORT["rs485"])
                  for m, pw in zip(area.meters, PASSWORDS)]})
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=1.0,
                        clock_correct=correct)
    store = Store(tmp_path / ("agent-%s.sqlite" % correct))
    agent = Agent(archive, store, settings, now=start, wall=start)
    SimRuntime(env, agent, {PORT["rs485"]: area.network})
    env.run(until=start + 3 * 3600.0)
    return agent, store, [m.addr[::-1].hex() for m in area.meters]


def test_a_drifted_meter_is_set_where_the_archive_allows_it(tmp_path):
    agent, store, addrs = run(tmp_path, True)
    sets = {r.addr: r for r in store.readings(task=CLOCK_SET)}
    assert sorted(sets) == addrs[:2]                     # no password: not touched
    good, refused = sets[addrs[0]], sets[addrs[1]]
    assert good.quality == "ok" and good.value["answers"] == ["ack", "ack"]
    assert good.value["before_s"] > 600 and abs(good.value["after_s"]) < 2
    assert refused.quality == "error_reply" and refused.value["answers"] == ["refused", "refused"]
    assert agent.counters["clock_correct_done"] == 1 and agent.counters["clock_correct_failed"] == 1
    assert agent.counters["clock_correct_not_allowed"] == 1
    assert sorted(r.addr for r in audit.events(store) if r.di == 12) == addrs[:3]
    # journaled as ERC41 (before and after, A.1) for the master

    class Answers(StoreAnswers):
        store = None

        def point_of(self, addr):
            return addrs.index(addr) + 1
    unit = Answers().upload_unit(good)
    (_, rec), = E.records(unit.value)
    assert isinstance(rec, E.Erc41ClockSet) and rec.pn == 1 and rec.before != rec.after
    store.close()


def test_with_the_setting_off_nothing_is_written(tmp_path):
    agent, store, addrs = run(tmp_path, False)
    assert store.readings(task=CLOCK_SET) == []
    assert not any(k.startswith("clock_correct") for k in agent.counters)
    assert len([r for r in audit.events(store) if r.di == 12]) == 3
    store.close()


def test_698_meters_are_set_by_set_4000_ciphered_where_secured(tmp_path):
    """Three 698.45 meters 15 min ahead: plaintext, secured and archived secured (its SET goes
    ciphered), secured but archived plain (its plaintext SET is refused). A TimeTag judged by
    a clock 15 min ahead still holds (the tag covers the deviation)."""
    start = DEFAULT_EPOCH + DAY
    env = simpy.Environment(initial_time=start)
    faults = [{"kind": "clock_jump", "meters": [0, 1, 2], "start_h": 1, "seconds": OFF_S}]
    area = build_area(env, 3, "rs485", 5, DEFAULT_EPOCH, faults,
                      population={"protocol_698_share": 1.0})
    for m in area.meters[1:]:
        firmware(m).plaintext_control = False       # security698's table applies
    archive = Archive.from_dict({
        "port": [{"name": PORT["rs485"], "url": "sim:rs485", "medium": "rs485"}],
        "meter": [dict(extra, addr=m.addr[::-1].hex(), port=PORT["rs485"], protocol="698.45")
                  for m, extra in zip(area.meters, ({}, {"secured": True}, {}))]})
    settings = Settings(curve_every_min=0, event_every_h=0, clock_check_h=1.0,
                        clock_correct=True)
    store = Store(tmp_path / "agent-698.sqlite")
    agent = Agent(archive, store, settings, now=start, wall=start)
    SimRuntime(env, agent, {PORT["rs485"]: area.network})
    env.run(until=start + 3 * 3600.0)
    addrs = [m.addr[::-1].hex() for m in area.meters]
    sets = {r.addr: r for r in store.readings(task=CLOCK_SET)}
    assert sorted(sets) == addrs
    for a in addrs[:2]:
        assert sets[a].quality == "ok" and sets[a].value["answers"] == ["ack"]
        assert sets[a].value["before_s"] > 600 and abs(sets[a].value["after_s"]) <= 3  # bus time
    assert sets[addrs[2]].quality == "error_reply"
    assert sets[addrs[2]].value["answers"] == ["refused"]
    assert agent.counters["clock_correct_done"] == 2 and agent.counters["clock_correct_failed"] == 1
    store.close()
