"""Voltage quality on a real SQLite store: an under-voltage spell raises ERC24 began/ended once
each, sent up as AFN0E records (decoded back by the codec); the day's statistics (rate, max/min
with times, minutes over/under) are stored when the next day's first read comes in."""
from hypothesis import given, settings, strategies as st

from edge import pq, validate as V
from edge.store import Reading, Store
from protocols.civil import from_civil, iso
from tests.edge.test_audit import A, Answers, uploaded_records

L = V.Limits()
T0 = from_civil(2026, 1, 6)
Q = 900.0


def realtime(addr, t, volts):
    return Reading(addr, "realtime", 0x0001FF00, iso(t), {"kwh": [1.0], "voltage": volts,
                                                         "current": 1.0}, "ok", (), t + 5)


def commit(store, readings):
    events = pq.raise_events(store, L, readings, readings[0].read_at, Q)
    store.commit(list(readings) + events)
    return events


def test_an_undervoltage_spell_raises_erc24_once_and_the_day_is_stored(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.upload_tasks = {"audit_event"}
    volts = [220.0] * 40 + [185.0] * 8 + [221.0] * 48        # 2 h under, the rest fine
    got = []
    for k, v in enumerate(volts):
        got += commit(store, [realtime(A, T0 + k * Q, v)])
    commit(store, [realtime(A, T0 + 96 * Q, 222.0)])            # the next day's first read
    ercs = [e for e in got if e.task == "audit_event"]
    assert [(e.value["began"], e.value["kind"], e.value["ua"]) for e in ercs] == [
        (True, "under", 185.0), (False, "under", 221.0)]
    recs = uploaded_records(store)
    assert [(r.erc, r.pn, r.began, r.flags, r.ua) for r in recs] == [
        (24, 1, True, 0x81, 185.0), (24, 1, False, 0x81, 221.0)]
    day = store.good(A, pq.TASK, "2026-01-06").value
    assert day["rate"] == round(88 / 96, 4) and day["under_min"] == 120.0
    assert day["over_min"] == 0.0 and day["samples"] == 96
    assert day["min_v"] == 185.0 and day["min_at"] == T0 + 40 * Q + 5
    assert day["max_v"] == 221.0
    assert pq.summary(store, L, "2026-01-06", Q)["meters"][0]["stored"] is True
    live = pq.summary(store, L, "2026-01-07", Q)["meters"][0]
    assert live["stored"] is False and live["rate"] == 1.0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([185.0, 220.0, 240.0]), min_size=1, max_size=30))
def test_edges_alternate_and_match_the_band_crossings(tmp_path_factory, volts):
    store = Store(tmp_path_factory.mktemp("pq") / "agent.sqlite")
    edges = []
    for k, v in enumerate(volts):
        edges += [e for e in commit(store, [realtime(A, T0 + k * Q, v)])
                  if e.task == "audit_event"]
    open_kind = None
    for e in edges:
        if e.value["began"]:
            assert open_kind is None
            open_kind = e.value["kind"]
        else:
            assert open_kind == e.value["kind"]
            open_kind = None
    assert (open_kind is None) == (pq.state(volts[-1], L) is None)
