"""A mixed HPLC area in virtual time: the load curves and the power-down events the agent stores
for its 698.45 meters (5002 spans, 3011 records, events reported by the module in 06F5) equal
the simulated meters' own registers and event logs, as they do for its 645 meters."""
import random

import pytest
import simpy

from edge.archive import Archive
from edge.plan import Settings
from edge.uplink import Uplink
from edge.uplink_settings import UplinkSettings
from meter_sim.faults import firmware
from meter_sim.firmware.reads import _energy
from meter_sim.population import DEFAULT_EPOCH
from plc_channel.area import build_area
from protocols.civil import DAY, iso, parse_local

from tests.hil.test_agent_features import _run
from hil.agent_run import area_archive

START = DEFAULT_EPOCH + DAY
CUT = [1, 2, 5, 6, 9]


def _area(env):
    outage = {"kind": "outage", "meters": CUT, "start_h": 24.4, "end_h": 24.6}
    return build_area(env, 12, "hplc", 7, DEFAULT_EPOCH, faults=[outage],
                      population={"protocol_698_share": 0.5})


def test_698_curves_and_reported_power_downs_equal_the_meters_own():
    env = simpy.Environment(initial_time=START)
    area = _area(env)
    agent, store = _run(area, area_archive(area), Settings(
        curve_every_min=60, curve_interval_min=15, event_every_h=0, clock_check_h=None,
        freeze_deadline_h=0.3), env, 2.2)
    fws = {m.addr[::-1].hex(): firmware(m) for m in area.meters}
    speaks = {a: fw.protocol for a, fw in fws.items()}
    assert sorted(set(speaks.values())) == [698, 2007]
    curves = [r for r in store.readings(task="load_curve") if r.quality == "ok"]
    uplink = Uplink(agent, UplinkSettings("127.0.0.1:0", "0171", 2082), random.Random(1))
    by_proto = {698: 0, 2007: 0}
    for r in curves:
        fw = fws[r.addr]
        t0 = parse_local(r.value["start"])
        assert t0 == parse_local(r.period) and len(r.value["values"]) == 4
        truth = [_energy(fw, 0x01, 0, fw.clock.true_time(t0 + k * 900.0)) for k in range(4)]
        assert r.value["values"] == truth, (r.addr, speaks[r.addr])
        f101 = uplink.upload_unit(r)                        # the master station sees the same
        assert f101.fn == 101 and f101.value["values"] == truth
        by_proto[speaks[r.addr]] += 1
    assert by_proto[698] >= 2 * sum(p == 698 for p in speaks.values())   # 00:00 and 01:00 slots
    assert by_proto[2007] >= 2 * sum(p == 2007 for p in speaks.values())
    events = {r.addr: r for r in store.readings(task="event")}
    cut = {area.meters[i].addr[::-1].hex() for i in CUT}
    assert set(events) == cut and {speaks[a] for a in cut} == {698, 2007}
    assert "event_report_unknown_meter" not in agent.counters
    for a, r in events.items():
        start, end = fws[a].events.records[0x03110000][0][:2]
        assert r.period == "power_down#1" and r.quality == "ok"
        assert r.value == {"start": iso(start), "end": iso(end)}, speaks[a]
        assert uplink.upload_unit(r).afn == 0x0E                 # an ERC of class 3


def test_a_day_curve_read_through_the_module_in_blocks_and_fragments_equals_the_meters_own():
    """96 rows of 5002 do not fit one 698 frame: through the 1376.2 module the agent confirms
    each link fragment and asks each GET-Response-Next block, one monitor request each."""
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 6, "hplc", 2, DEFAULT_EPOCH, population={"protocol_698_share": 0.5})
    agent, store = _run(area, area_archive(area), Settings(
        curve_every_min=1440, curve_interval_min=15, event_every_h=0, clock_check_h=None,
        freeze_deadline_h=0.3), env, 1.0)
    fws = {m.addr[::-1].hex(): firmware(m) for m in area.meters}
    curves = {r.addr: r for r in store.readings(task="load_curve") if r.quality == "ok"}
    assert set(curves) == set(fws)
    assert {fw.protocol for fw in fws.values()} == {698, 2007}
    for a, r in curves.items():
        fw, t0 = fws[a], parse_local(r.value["start"])
        assert t0 == START - DAY and len(r.value["values"]) == 96
        truth = [_energy(fw, 0x01, 0, fw.clock.true_time(t0 + k * 900.0))
                 if t0 + k * 900.0 >= fw.curve_from else None for k in range(96)]
        assert r.value["values"] == truth, fw.protocol
        assert sum(v is not None for v in truth) > 90


@pytest.mark.parametrize("medium", ["rs485", "hplc"])
def test_secured_698_meters_are_read_with_an_rn_in_virtual_time(medium):
    """698 meters in security mode refuse plaintext reads of freezes; the archive marks them
    ``secured`` and the agent reads their daily freeze and day curve (blocks, fragments) in
    SECURITY-Request with an RN, on RS-485 and through the module, their own values."""
    env = simpy.Environment(initial_time=START)
    area = build_area(env, 4, medium, 2, DEFAULT_EPOCH, population={"protocol_698_share": 1.0})
    doc = area_archive(area).to_dict()
    for m, entry in zip(area.meters, doc["meter"]):
        firmware(m).plaintext_control = False
        entry["secured"] = True
    agent, store = _run(area, Archive.from_dict(doc), Settings(
        curve_every_min=1440, curve_interval_min=15, event_every_h=0, clock_check_h=None,
        freeze_deadline_h=0.3), env, 1.0)
    fws = {m.addr[::-1].hex(): firmware(m) for m in area.meters}
    freezes = {r.addr for r in store.readings(task="daily_freeze") if r.quality == "ok"}
    curves = {r.addr: r for r in store.readings(task="load_curve") if r.quality == "ok"}
    assert freezes == set(curves) == set(fws)
    for a, r in curves.items():
        fw, t0 = fws[a], parse_local(r.value["start"])
        truth = [_energy(fw, 0x01, 0, fw.clock.true_time(t0 + k * 900.0))
                 if t0 + k * 900.0 >= fw.curve_from else None for k in range(96)]
        assert r.value["values"] == truth


def test_the_periodic_event_scan_reads_698_power_downs_on_rs485():
    """No module to report: the event task's scan reads the 3011 count and the new records."""
    env = simpy.Environment(initial_time=START)
    outage = {"kind": "outage", "meters": [0, 1, 2, 3], "start_h": 24.2, "end_h": 24.3}
    area = build_area(env, 6, "rs485", 3, DEFAULT_EPOCH, faults=[outage],
                      population={"protocol_698_share": 0.5})
    agent, store = _run(area, area_archive(area), Settings(
        curve_every_min=0, event_every_h=1, clock_check_h=None, freeze_deadline_h=0.3), env, 1.5)
    fws = {m.addr[::-1].hex(): firmware(m) for m in area.meters}
    events = {r.addr: r for r in store.readings(task="event")}
    cut = {area.meters[i].addr[::-1].hex() for i in range(4)}
    assert set(events) == cut and {fws[a].protocol for a in cut} == {698, 2007}
    for a, r in events.items():
        start, end = fws[a].events.records[0x03110000][0][:2]
        assert r.period == "power_down#1" and r.value == {"start": iso(start), "end": iso(end)}
    counts = [r for r in store.readings(task="event_count") if r.quality == "ok"]
    assert {r.addr for r in counts} == set(fws)
