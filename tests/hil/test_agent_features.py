"""Agent features against the simulator in virtual time: broadcast time sync on both media,
meters at several line rates on one RS-485 pair, event reports from the carrier module, and archive
changes from the master station while reading. The
simulated meters' own clocks, rates and event logs are the ground truth."""
import pytest
import simpy

from edge.agent import Agent
from edge.archive import Archive, ArchiveError
from edge.plan import Settings
from edge.store import Store
from meter_sim.faults import firmware
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY, iso
from hil.agent_run import PORT, area_archive
from hil.simruntime import SimRuntime

START = DEFAULT_EPOCH + DAY


def _run(area, archive, settings, env, hours):
    store = Store(":memory:", durable=False)
    agent = Agent(archive, store, settings, now=env.now, wall=env.now)
    SimRuntime(env, agent, {PORT[area.medium]: area.network})
    env.run(until=env.now + 3600.0 * hours)
    return agent, store


def _clock_settings(hour, freeze_h=0.5):
    return Settings(curve_every_min=0, event_every_h=0, clock_check_h=hour,
                    freeze_deadline_h=freeze_h)


def test_carrier_time_sync_floods_through_the_module_before_clocks_are_checked():
    env = simpy.Environment(initial_time=START + 2 * 3600.0)
    area = build_area(env, 40, "hplc", 3, DEFAULT_EPOCH)
    skewed = [firmware(m) for m in area.meters[::4]]
    for m in skewed:                                    # 2 minutes fast: within 645's 5-minute rule
        m.clock.set(env.now, m.clock.read(env.now) + 120.0)
    agent, store = _run(area, area_archive(area), _clock_settings(2.5), env, 1.5)
    checks = [r for r in store.readings(task="clock") if r.quality == "ok"]
    assert len(checks) == 40
    assert max(abs(r.value["deviation_s"]) for r in checks) < 5.0
    assert all(abs(m.clock.read(env.now) - env.now) < 5.0 for m in skewed)   # the meters agree
    assert "time_sync_refused" not in agent.counters


def test_rs485_meters_at_two_rates_are_each_read_and_synced_at_their_own():
    env = simpy.Environment(initial_time=START + 2 * 3600.0)
    area = build_area(env, 12, "rs485", 5, DEFAULT_EPOCH)
    doc = _doc(area)
    slow = set()
    for k, (m, row) in enumerate(zip(area.meters, doc["meter"])):
        if k % 3 == 0:
            firmware(m).baud = row["baud"] = 1200
            slow.add(row["addr"])
            firmware(m).clock.set(env.now, firmware(m).clock.read(env.now) - 90.0)
    agent, store = _run(area, Archive.from_dict(doc), _clock_settings(2.5, 6.0), env, 1.0)
    freezes = {r.addr for r in store.readings(task="daily_freeze") if r.quality == "ok"}
    assert len(freezes) == 12 and slow <= freezes
    checks = [r for r in store.readings(task="clock") if r.quality == "ok"]
    assert len(checks) == 12 and max(abs(r.value["deviation_s"]) for r in checks) < 5.0


def test_a_meter_archived_at_the_wrong_rate_is_never_read():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 4, "rs485", 5, DEFAULT_EPOCH)
    doc = _doc(area)
    doc["meter"][0]["baud"] = 9600                      # the meter itself stays at 2400
    agent, store = _run(area, Archive.from_dict(doc), Settings(
        curve_every_min=0, event_every_h=0, clock_check_h=None, freeze_deadline_h=0.2), env, 0.25)
    got = {r.addr: r.quality for r in store.readings(task="daily_freeze")}
    assert got.pop(doc["meter"][0]["addr"]) == "timeout"
    assert set(got.values()) == {"ok"}


def _doc(area):
    name = PORT[area.medium]
    return {"port": [{"name": name, "url": "sim:rs485", "medium": "rs485"}],
            "meter": [{"addr": m.addr[::-1].hex(), "port": name, "baud": 2400}
                      for m in area.meters]}


def test_an_event_reported_by_the_module_is_read_at_once():
    """06F5: after a power cut two meters report through the module; the agent reads their
    event count and the new record then, with no periodic event task configured."""
    env = simpy.Environment(initial_time=START)
    outage = {"kind": "outage", "meters": [3, 7], "start_h": 24.4, "end_h": 24.6}
    area = build_area(env, 20, "hplc", 4, DEFAULT_EPOCH, faults=[outage])
    agent, store = _run(area, area_archive(area), Settings(
        curve_every_min=0, event_every_h=0, clock_check_h=None, freeze_deadline_h=0.3), env, 1.2)
    assert agent.counters.get("module_report_ReportEvent", 0) >= 2
    records = {r.addr: r for r in store.readings(task="event")}
    cut = {m.addr[::-1].hex() for m in (area.meters[3], area.meters[7])}
    assert set(records) == cut
    for r in records.values():
        assert r.period == "power_down#1" and r.quality == "ok"
        start, end = r.value["start"], r.value["end"]
        assert iso(START + 0.4 * 3600 - 60) < start < end < iso(START + 0.6 * 3600 + 60)


def test_archive_changes_resync_the_module_start_reads_and_survive_a_restart():
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 20, "hplc", 6, DEFAULT_EPOCH)
    full = area_archive(area).to_dict()
    late = full["meter"][18:]
    doc = dict(full, meter=full["meter"][:18])
    store = Store(":memory:", durable=False)
    agent = Agent(Archive.from_dict(doc), store, Settings(
        curve_every_min=0, event_every_h=0, clock_check_h=None), now=env.now, wall=env.now)
    runtime = SimRuntime(env, agent, {"plc": area.network})
    env.run(until=START + 1200.0)
    gone = full["meter"][0]["addr"]
    with pytest.raises(ArchiveError):
        agent.change_archive(add=[{"addr": "00000000001X", "port": "plc"}])
    assert store.archive_changes() == ([], [])
    runtime.call(agent.change_archive, add=late, remove=[gone])
    env.run(until=START + 3600.0)
    module = runtime.ports["plc"].module
    wanted = {bytes.fromhex(m["addr"])[::-1] for m in full["meter"][1:]}
    assert set(module.nodes) == wanted
    read = {r.addr for r in store.readings(task="daily_freeze") if r.quality == "ok"}
    assert {m["addr"] for m in late} <= read
    again = Agent(Archive.from_dict(doc), store, agent.settings, now=env.now, wall=env.now)
    assert set(again.archive.meters) == {m["addr"] for m in full["meter"][1:]}
