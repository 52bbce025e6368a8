"""Three-phase power quality on a real SQLite store: a lost phase, a reversed phase, a current
or voltage imbalance and a reverse phase sequence in the real-time reads raise ERC10/9/17/11 began and ended
once each, sent up as AFN0E records the codec decodes back; phases B and C fill AFN0D F27 and the
month's statistics answer F35. The ERC10 golden vector is laid out by hand from the public
layout (gdgly/NUC97X_JS ``ERC10_Event_Write``: Le 28, time, point, flags, Ua..Uc A.7, Ia..Ic
A.25, forward active A.14), never from our encoder."""
from edge import pq, pq_phases, validate as V
from edge.store import Reading, Store
from protocols.civil import from_civil, iso
from protocols.gdw1376_1 import erc as E
from protocols.gdw1376_1.catalog import AFN_CLASS2
from protocols.gdw1376_1.layouts import Dated
from protocols.gdw1376_1.catalog import layout
from tests.edge.test_audit import A, uploaded_records

L = V.Limits()
T0 = from_civil(2026, 1, 6)
Q = 900.0
NORMAL = {"voltage": [229.0, 228.0, 227.0], "current": [3.0, 3.0, 3.0],
          "power": [1.9, 0.63, 0.63, 0.63], "pf": [0.95] * 4, "status_7": 0, "reverse_kwh": 0.0}


def realtime(t, **change):
    phases = dict(NORMAL, **change)
    return Reading(A, "realtime", 0x0001FF00, iso(t), {
        "kwh": [100.0], "voltage": phases["voltage"][0], "current": phases["current"][0],
        "phases": phases}, "ok", (), t + 5)


def commit(store, reading):
    events = (pq.raise_events(store, L, [reading], reading.read_at, Q)
              + pq_phases.raise_alarms(store, L, [reading], reading.read_at))
    store.commit([reading] + events)
    return [e for e in events if e.task == "audit_event"]


def test_each_fault_raises_its_standard_erc_once_begun_and_once_ended(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.upload_tasks = {"audit_event"}
    spells = [{}, {"voltage": [229.0, 0.8, 227.0]}, {"voltage": [229.0, 0.8, 227.0]}, {},
              {"current": [3.0, 3.0, -3.0]}, {}, {"current": [5.0, 3.0, 1.0]}, {},
              {"status_7": 1}, {}]
    got = []
    for k, change in enumerate(spells):
        got += commit(store, realtime(T0 + k * Q, **change))
    assert [(e.di, e.value["phase"], e.value["kind"], e.value["began"]) for e in got] == [
        (10, "b", "loss", True), (10, "b", "loss", False), (9, "c", "reversed", True),
        (9, "c", "reversed", False), (17, None, "current", True), (17, None, "current", False),
        (11, None, "reverse_sequence", True), (11, None, "reverse_sequence", False)]
    commit(store, realtime(T0 + 9 * Q))              # the same read again: the same keys, no more
    assert len(store.readings(task="audit_event")) == 8
    recs = uploaded_records(store)
    assert [(r.erc, r.pn, r.began) for r in recs] == [
        (10, 1, True), (10, 1, False), (9, 1, True), (9, 1, False), (17, 1, True), (17, 1, False),
        (11, 1, True), (11, 1, False)]
    assert recs[0].flags == 0x82 and recs[0].ub == 0.8 and recs[0].forward_active == 100.0
    assert recs[2].flags == 0xC4 and recs[2].ic == -3.0
    assert recs[4].flags == 0x02 and recs[4].current_imbalance == 80.0
    assert [a["erc"] for a in pq_phases.alarms(store, "2026-01-06")] == [10, 10, 9, 9, 17, 17,
                                                                          11, 11]


def test_a_phase_with_no_current_is_a_break_and_a_quiet_imbalance_is_none():
    got = pq_phases.conditions(dict(NORMAL, voltage=[229.0, 0.8, 227.0],
                                    current=[0.1, 0.0, 0.1]), L)
    assert got == {(10, "b"): "break"}
    assert pq_phases.conditions(dict(NORMAL, current=[0.2, 0.0, 0.0]), L) == {}


def test_a_voltage_imbalance_is_erc17_d0_and_with_a_current_one_both_flags(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    store.upload_tasks = {"audit_event"}
    skewed = [229.0 * 1.06, 228.0, 227.0 * 0.94]               # (max - min) / max = 12.1 %
    spells = [{}, {"voltage": skewed}, {"voltage": skewed, "current": [5.0, 3.0, 1.0]}, {}]
    got = []
    for k, change in enumerate(spells):
        got += commit(store, realtime(T0 + k * Q, **change))
    assert [(e.di, e.value["kind"], e.value["began"], e.value["flags"]) for e in got
            if e.di == 17] == [
        (17, "voltage", True, 0x01), (17, "voltage", False, 0x01),
        (17, "voltage_current", True, 0x03), (17, "voltage_current", False, 0x03)]
    rec = next(r for r in uploaded_records(store) if r.erc == 17)     # (phase A is over: ERC24)
    assert (rec.erc, rec.flags, rec.voltage_imbalance) == (17, 0x01, 12.1)
    assert rec.current_imbalance == 0.0 and rec.ua == round(229.0 * 1.06, 1)
    # within the limit (4 %) nothing; a lost phase is ERC10 only, not an imbalance as well
    assert pq_phases.conditions(dict(NORMAL, voltage=[232.0, 228.0, 225.0]), L) == {}
    assert pq_phases.conditions(dict(NORMAL, voltage=[229.0, 0.8, 227.0]), L) == {
        (10, "b"): "loss"}


def test_erc10_golden_vector_from_the_public_layout():
    data = bytes.fromhex("00 10 05 01 26" "03 80" "82" "95 22" "08 00" "01 23"
                         "03 04 00" "00 00 00" "03 04 80" "00 79 64 79 00")
    assert len(data) == 28
    rec = E.decode_event(10, data)
    assert (rec.at, rec.pn, rec.began, rec.flags) == ((0, 10, 5, 1, 26), 3, True, 0x82)
    assert (rec.ua, rec.ub, rec.uc) == (229.5, 0.8, 230.1)
    assert (rec.ia, rec.ib, rec.ic, rec.forward_active) == (0.403, 0.0, -0.403, 7964.79)


def test_phases_b_and_c_fill_f27_and_the_month_answers_f35(tmp_path):
    store = Store(tmp_path / "agent.sqlite")
    for k in range(97):                         # a whole day and the next day's first read
        volts = [229.0, 190.0 if 40 <= k < 48 else 228.0, 240.0 if k < 4 else 227.0]
        commit(store, realtime(T0 + k * Q, voltage=volts))
    day = store.good(A, pq.TASK, "2026-01-06").value
    assert day["phases"]["b"]["under_min"] == 120.0 and day["phases"]["c"]["over_min"] == 60.0
    f27 = pq.f27_value(day)
    assert (f27["a_ok_min"], f27["b_under_lower_min"], f27["c_over_upper_min"]) == (1440, 120, 60)
    assert f27["b_min_v"] == 190.0 and f27["c_max_v"] == 240.0
    month = pq.month_stats(store, A, "2026-01")
    assert month["days"] == 1 and month["phases"]["b"]["under_min"] == 120.0
    f35 = dict(pq.f27_value(month), td=(1, 26))
    lay = layout(AFN_CLASS2, 35, True)
    assert isinstance(lay, Dated)
    back, _ = lay.parse(lay.encode(f35), 0)
    assert back["b_under_lower_min"] == 120 and back["c_max_v"] == 240.0 and back["td"] == (1, 26)
    assert pq.f27_value(pq.month_stats(store, A, "2026-02"))["a_ok_min"] == pq.NO_MINUTES
