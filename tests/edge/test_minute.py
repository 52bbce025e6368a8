"""Minute-level collection (edge.minute): the groups' settings, which task reads whom, the
slots going up as F101 at their density and served to a master's F101 at any density."""
import pytest

from edge.archive import Archive
from edge.minute import TASK, MinuteCurve, points
from edge.plan import Settings
from edge.schema import SchemaError
from edge.store import Reading
from protocols.civil import from_civil, iso
from protocols.gdw1376_1 import Tp, Unit
from protocols.gdw1376_1.frame import F_CLASS2
from protocols.gdw1376_1.units import AFN_CLASS2, parse_units
from tests.hostlink.test_uplink import WEDNESDAY, agent_at, ask, down, online

GROUPS = {"every_min": 15, "group": [
    {"interval_min": 1, "meters": ["000000000001"]},
    {"interval_min": 15, "tariffs": ["flat"]}]}


def _archive():
    return Archive.from_dict({"port": [{"name": "p1", "url": "loop://"}], "meter": [
        {"addr": "000000000001", "port": "p1"},
        {"addr": "000000000002", "port": "p1", "tariff": "flat"},
        {"addr": "000000000003", "port": "p1"},
        {"addr": "000000000004", "port": "p1", "protocol": "645-1997", "tariff": "flat"},
        {"addr": "000000000009", "port": "p1", "role": "area", "tariff": "flat"}]})


def test_each_meter_is_read_by_one_curve_task_at_its_groups_interval():
    s = Settings.from_dict({"curve_every_min": 60, "minute": GROUPS})
    tasks = {t.name: t for t in s.tasks()}
    a = _archive().meters
    by = {addr: [n for n in ("load_curve", TASK) if tasks[n].applies(m, 0)]
          for addr, m in a.items()}
    assert by == {"000000000001": [TASK], "000000000002": [TASK], "000000000003": ["load_curve"],
                  "000000000004": [], "000000000009": ["load_curve"]}
    minute = tasks[TASK]
    assert isinstance(minute, MinuteCurve) and minute.every_s == 900
    one = minute.slot_curve(a["000000000001"], 0)
    fifteen = minute.slot_curve(a["000000000002"], 0)
    assert (one.points, one.step_s) == (15, 60) and (fifteen.points, fifteen.step_s) == (1, 900)


@pytest.mark.parametrize("minute, place", [
    ({"group": [{"interval_min": 1}]}, "tasks.minute.group[0].meters"),
    ({"group": [{"interval_min": 2, "share": 0.1}]}, "tasks.minute.group[0].interval_min"),
    ({"every_min": 60, "group": [{"interval_min": 1, "share": 0.1}]},
     "tasks.minute.group[0].interval_min"),          # 60 points: more than one reply holds
    ({"every_min": 10, "group": [{"interval_min": 15, "share": 0.1}]},
     "tasks.minute.group[0].interval_min"),
    ({"group": [{"meters": ["12345"]}]}, "tasks.minute.group[0].meters"),
])
def test_bad_minute_settings_name_their_place(minute, place):
    with pytest.raises(SchemaError) as e:
        Settings.from_dict({"minute": minute})
    assert place in str(e.value)


def test_no_group_no_minute_task():
    assert TASK not in [t.name for t in Settings().tasks()]


def _slot(addr, start, values, step_s=60):
    return Reading(addr, TASK, 0x06100601, iso(start),
                   {"start": iso(start)[:16], "values": values, "step_s": step_s},
                   read_at=start + 960.0)


def test_points_take_each_readings_own_step_and_skip_missing_ones():
    t0 = from_civil(2026, 11, 25, 10, 0)
    got = points([_slot("000000000001", t0, [1.0, None, 1.2]),
                  Reading("000000000001", "load_curve", 0, iso(t0 + 900), {"values": [2.0, 2.5]}),
                  Reading("000000000001", TASK, 0, iso(t0 + 3600), None, "timeout")], 900)
    assert got == {t0: 1.0, t0 + 120: 1.2, t0 + 900: 2.0, t0 + 1800: 2.5}


def test_a_minute_slot_goes_up_as_f101_at_density_255():
    agent = agent_at(WEDNESDAY)
    t0 = from_civil(2026, 11, 25, 11, 0)
    values = [round(100 + 0.01 * k, 2) for k in range(15)]
    agent.store.put_readings([_slot("000000000002", t0, values)])
    master = online(agent)
    s = agent.uplink.session
    for _ in range(3):
        s.on_timer(10.0)
        master.receive_data(s.data_to_send(), 10.0, WEDNESDAY)
        s.receive_data(master.data_to_send(), 10.0)
    rows = [r for r in master.station.data() if r["afn"] == AFN_CLASS2]
    assert len(rows) == 1 and rows[0]["fn"] == 101 and rows[0]["pn"] == 7
    assert rows[0]["value"]["density"] == 255 and rows[0]["value"]["values"] == values
    assert agent.store.unsent_count() == 0


@pytest.mark.parametrize("density, points_, want", [
    (255, 3, [100.0, 100.01, 100.02]),        # 1 min: the slot's points
    (1, 2, [100.0, None]),                    # 15 min: from the same slot, EE for 11:15 (unread)
])
def test_a_master_asking_f101_gets_the_minute_points_at_its_density(density, points_, want):
    agent = agent_at(WEDNESDAY)
    t0 = from_civil(2026, 11, 25, 11, 0)
    agent.store.put_readings([_slot("000000000002", t0, [round(100 + 0.01 * k, 2)
                                                         for k in range(15)])])
    online(agent)
    unit = Unit(AFN_CLASS2, 101, 7, {"start": (0, 11, 25, 11, 26), "density": density,
                                     "points": points_}, False)
    answers = ask(agent, down(AFN_CLASS2, [unit], func=F_CLASS2, tp=Tp.at(5, WEDNESDAY, 5)))
    got = [u for f in answers for u in parse_units(f.afn, f.data, True) if u.fn == 101]
    assert len(got) == 1 and got[0].value["values"] == want
