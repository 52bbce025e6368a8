"""The audit upstream on a real SQLite store: flags raise ERC27/28/29/30/12 once per occurrence,
they go up as AFN0E records (decoded back by the codec), a flagged freeze never goes up as
F161, and the missed-reading list of a day names every meter without a good freeze."""
from hypothesis import given, settings, strategies as st

from edge import audit, validate as V
from edge.archive import Archive
from edge.store import Reading, Store
from edge.uplink_answers import StoreAnswers
from protocols.civil import DAY, from_civil
from protocols.gdw1376_1 import erc as E
from protocols.gdw1376_1.units import AFN_CLASS3

A, B, C = "000000000001", "000000000002", "000000000003"
L = V.Limits()
T0 = from_civil(2026, 1, 6)


def freeze(addr, day, kwh, flags=()):
    at = from_civil(2026, 1, int(day[8:])) + DAY
    return Reading(addr, "daily_freeze", 0x05060101, day,
                   {"kwh": [kwh, kwh, 0, 0, 0], "time": None, "at": at},
                   "invalid" if flags else "ok", flags, at + 300)


def commit(store, readings, wall=T0):
    """What Agent.record does: the readings and the events they raise, in one transaction."""
    events = audit.raise_events(store, L, readings, wall)
    store.commit(list(readings) + events)
    return events


class Answers(StoreAnswers):
    """The uplink's unit builder with a two-meter point table."""

    def __init__(self, store):
        self.store = store

    def point_of(self, addr):
        return {A: 1, B: 2}.get(addr)


def uploaded_records(store):
    out = []
    for _, r in store.unsent(100):
        unit = Answers(store).upload_unit(r)
        if unit is None:                # no measuring point: the uplink drops it
            continue
        assert unit.afn == AFN_CLASS3 and unit.fn == 1
        for e, rec in E.records(unit.value):
            out.append(rec)
    return out


def test_backwards_jump_and_flying_freezes_raise_erc27_28_29_once(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.upload_tasks = {"daily_freeze", audit.TASK}
    commit(store, [freeze(A, "2026-01-05", 100.0), freeze(B, "2026-01-05", 100.0),
                   freeze(C, "2026-01-05", 100.0)])
    store.settle([i for i, _ in store.unsent(10)])
    # one day: 13.2 kW x 24 h = 316.8 kWh at most; x1.5 over-difference, x3 flying
    bad = [freeze(A, "2026-01-06", 90.0, [V.BACKWARDS]),
           freeze(B, "2026-01-06", 100.0 + 316.8 * 2, [V.JUMP]),
           freeze(C, "2026-01-06", 100.0 + 316.8 * 5, [V.FLYING])]
    events = commit(store, bad)
    assert [(e.addr, e.di) for e in events] == [(A, 27), (B, 28), (C, 29)]
    assert commit(store, bad) != [] and len(store.readings(task=audit.TASK)) == 3   # idempotent
    recs = uploaded_records(store)                  # the flagged freezes are not among them
    assert [type(r) for r in recs] == [E.Erc27EnergyDecrease, E.Erc28OverDifference]
    assert (recs[0].pn, recs[0].began, recs[0].before, recs[0].after) == (1, True, 100.0, 90.0)
    assert recs[1].threshold == 1.5 and recs[1].after == round(100.0 + 316.8 * 2, 4)
    assert [e for e, _, _ in Answers(store)._event_records()] == [27, 28]     # class 3 answers
    bad_value = Reading(A, audit.TASK, 28, "freeze:x", {"erc": 28, "at": T0, "began": True,
                                                         "before": None}, "ok", (), T0)
    assert Answers(store).upload_unit(bad_value) is None          # logged, never a crash
    # C has no measuring point: its event is not uploadable (the uplink settles it as dropped)
    assert Answers(store).upload_unit(store.readings(addr=C, task=audit.TASK)[0]) is None
    assert audit.record(store.readings(addr=C, task=audit.TASK)[0].value, 3).threshold == 3.0
    store.close()


def test_flying_needs_a_bigger_jump_than_over_difference():
    assert V.energy_flags(100.0 + 13.2 * 10 * 2.9, 10 * 3600.0, (100.0, 0.0), L) == [V.JUMP]
    assert V.energy_flags(100.0 + 13.2 * 10 * 3.1, 10 * 3600.0, (100.0, 0.0), L) == [V.FLYING]


def clock(addr, day, deviation):
    flags = V.clock_flags(T0 + deviation, T0, L)
    return Reading(addr, "clock", 0x04000102, day, {"deviation_s": deviation},
                   "invalid" if flags else "ok", flags, from_civil(2026, 1, int(day[8:]), 3))


def test_a_clock_spell_raises_erc12_began_once_and_ended_once(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    got = []
    for day, dev in (("2026-01-05", 10.0), ("2026-01-06", -900.0), ("2026-01-07", -905.0),
                     ("2026-01-08", 2.0), ("2026-01-09", 1.0)):
        got += [(e.value["day"], e.value["began"]) for e in commit(store, [clock(A, day, dev)])]
    assert got == [("2026-01-06", True), ("2026-01-08", False)]
    commit(store, [clock(A, "2026-01-06", -900.0)])              # read again: nothing new
    assert len(audit.events(store)) == 2
    store.close()


def realtime(addr, t, kwh, amps, previous):
    since, flags = V.stopped_flags(kwh, amps, t, previous, L)
    value = {"kwh": [kwh, kwh, 0, 0, 0], "voltage": 220.0, "current": amps, "still_since": since}
    r = Reading(addr, "realtime", 0x00010000, "2026-01-06 %02d:%02d" % divmod(int(t - T0) // 60, 60),
                value, "invalid" if flags else "ok", flags, t)
    return r, (kwh, amps, since)


def test_a_register_standing_still_with_current_raises_erc30_once(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    prev, got = None, []
    # 15-min reads: moving, then still for 2 h with 5 A flowing, then moving again
    series = [(0, 10.0), (1, 10.3)] + [(k, 10.3) for k in range(2, 10)] + [(10, 10.6), (11, 10.9)]
    for k, kwh in series:
        r, prev = realtime(A, T0 + 900.0 * k, kwh, 5.0, prev)
        got += [(e.di, e.value["began"], e.value["at"] - T0) for e in commit(store, [r])]
    # still since read 1 (15 min); stopped_s = 1 h: flagged at read 5, ended at read 10
    assert got == [(30, True, 5 * 900.0), (30, False, 10 * 900.0)]
    rec = audit.record(audit.events(store)[0].value, 1)
    assert isinstance(rec, E.Erc30Stopped) and rec.reading == 10.3 and rec.threshold_15min == 4
    assert E.decode_event(30, rec.encode()) == rec
    # no current: a register standing still is no fault
    prev = None
    for k in range(8):
        r, prev = realtime(B, T0 + 900.0 * k, 20.0, 0.05, prev)
        assert r.flags == () and commit(store, [r]) == []
    store.close()


def test_missed_list_names_meters_without_a_good_freeze(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    arch = Archive.from_dict({"port": [{"name": "p1", "url": "sim:rs485"}],
                              "meter": [{"addr": a, "port": "p1"} for a in (A, B, C)]})
    commit(store, [freeze(A, "2026-01-05", 100.0), freeze(B, "2026-01-05", 100.0)])
    commit(store, [freeze(A, "2026-01-06", 101.0), freeze(B, "2026-01-06", 90.0, [V.BACKWARDS]),
                   Reading(C, "daily_freeze", 0x05060101, "2026-01-06", None, "timeout")])
    got = audit.missed(store, arch, "2026-01-06", {A: 1, B: 2, C: 3})
    assert got == [{"addr": B, "point": 2, "quality": "invalid", "flags": [V.BACKWARDS],
                    "kind": "wrong"},
                   {"addr": C, "point": 3, "quality": "timeout", "flags": [], "kind": "missed"}]
    assert [m["addr"] for m in audit.missed(store, arch, "2026-01-07")] == [A, B, C]
    s = audit.summary(store, arch, "2026-01-06")
    assert [(e["addr"], e["erc"]) for e in s["events"]] == [(B, 27)]
    store.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.0, 0.0, 0.2]), st.sampled_from([0.0, 5.0, 5.0])),
                min_size=1, max_size=40))
def test_stopped_spells_alternate_began_ended_and_never_repeat(steps):
    store = Store(":memory:")
    prev, kwh, got = None, 10.0, []
    for k, (rise, amps) in enumerate(steps):
        kwh = round(kwh + rise, 2)
        r, prev = realtime(A, T0 + 900.0 * k, kwh, amps, prev)
        events = commit(store, [r])
        n = len(audit.events(store))
        commit(store, [r])                              # the same read again: nothing new
        assert len(audit.events(store)) == n
        got += [e.value["began"] for e in events]
    assert got == [k % 2 == 0 for k in range(len(got))]
    assert len(audit.events(store)) == len(got)
    store.close()
