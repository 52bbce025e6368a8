"""A small three-phase industrial park: the unmodified agent reads its three-phase meters' phases
in real time and raises each wiring fault as its standard ERC (10 phase loss, 9 reversed, 17
current or voltage imbalance, 11 reverse sequence) and nothing else; a fault between two real-time reads is raised
from the meter's own event record (the hourly scan); the per-phase day rates follow the truth;
the same fault on a single-phase meter is no alarm and no truth."""
import pytest

from hil.scenario import Scenario, resolve
from hil.scenario_run import Run

THREE = [2, 3, 4]                   # seed 7, share 0.6: the three-phase meters among 0..5


def doc():
    # population epoch 2026-01-01: start_h 130 is 2026-01-06 10:00, the run's first day
    return {"scenario": {"name": "park-small", "seed": 7, "start": "2026-01-06 00:00",
                         "hours": 25},
            "area": {"meters": 6, "medium": "rs485"},
            "population": {"local_share": 0.0, "commercial_share": 1.0, "three_phase_share": 0.6},
            "fault": [{"kind": "phase_loss", "meters": [2], "phase": 1, "start_h": 130,
                       "end_h": 132},
                      {"kind": "reverse_polarity", "meters": [3], "phase": 2, "start_h": 131},
                      {"kind": "imbalance", "meters": [4], "fraction": 0.5, "start_h": 130,
                       "end_h": 133},
                      {"kind": "reverse_sequence", "meters": [4], "start_h": 136, "end_h": 137},
                      {"kind": "voltage_imbalance", "meters": [3], "fraction": 0.04,
                       "start_h": 134, "end_h": 136},
                      {"kind": "phase_loss", "meters": [0], "phase": 0, "start_h": 130},
                      {"kind": "phase_loss", "meters": [3], "phase": 0, "start_h": 122.0833,
                       "end_h": 122.25}],          # 02:05..02:15: only the event record shows it
            "tasks": {"curve_every_min": 0, "event_every_h": 1, "realtime_s": 900},
            "gate": [{"metric": "pq_alarm_recall", "op": ">=", "value": 1.0},
                     {"metric": "pq_alarms_false", "op": "<=", "value": 0},
                     {"metric": "voltage_rate_error_pp_by_phase.b", "op": "<=", "value": 2.0}]}


@pytest.mark.timeout(60)
def test_each_wiring_fault_is_its_standard_erc_and_nothing_else():
    run = Run(Scenario.from_dict(doc())).run()
    report = run.report({})
    assert report["three_phase_meters"] == len(THREE)
    assert [(t["addr"], t["erc"], t["phase"]) for t in report["pq_alarms"]["truth"]] == [
        ("000000000003", 10, "b"), ("000000000004", 10, "a"), ("000000000004", 9, "c"),
        ("000000000004", 17, None), ("000000000005", 17, None), ("000000000005", 11, None)]
    assert (report["pq_alarms_found"], report["pq_alarms_false"]) == (6, 0)
    [v] = [r.value for r in run.store.readings(addr="000000000004", task="audit_event")
           if r.di == 17 and r.value["began"]]
    assert v["flags"] == 0x01 and v["kind"] == "voltage" and v["voltage_imbalance"] > 4.0
    short = [r.value for r in run.store.readings(addr="000000000004", task="audit_event")
             if r.di == 10]
    assert [(v["began"], v["source"], v["kind"]) for v in short] == [
        (True, "event", "loss"), (False, "event", "loss")]
    assert short[0]["ua"] is None                       # no phase values: from the record
    assert report["passed"], report["gates"]
    day = run.store.good("000000000003", "voltage_day", "2026-01-06").value
    assert day["phases"]["b"]["rate"] < 0.95 and day["rate"] == 1.0       # 2 h at ~0 V on B
    assert "phases" not in run.store.good("000000000001", "voltage_day", "2026-01-06").value
    reverse = [r.value["phases"]["reverse_kwh"] for r in run.store.readings(
        addr="000000000004", task="realtime")]
    assert reverse[0] == 0.0 and reverse[-1] > 0.5                        # 反向有功 grows


def test_without_real_time_reads_the_event_records_raise_them_and_without_either_none():
    d = doc()
    d["tasks"]["realtime_s"] = 0
    d["gate"] = d["gate"][:2]
    # a voltage imbalance under the meter's own 30 % leaves no record (only real-time reads show
    # it): this one is over it, 2f / (1 + f) = 33 %, so its 电压不平衡 record raises the ERC17
    for f in d["fault"]:
        if f["kind"] == "voltage_imbalance":
            f["fraction"] = 0.2
    report = Run(Scenario.from_dict(d)).run().report({})
    assert (report["pq_alarms_found"], report["pq_alarms_false"]) == (6, 0) and report["passed"]
    d["tasks"]["event_every_h"] = 0             # nothing read: nothing raised, the gate fails
    report = Run(Scenario.from_dict(d)).run().report({})
    assert report["pq_alarms_found"] == 0 and not report["passed"]


def test_the_bundled_park_loads_with_its_gates():
    sc = Scenario.load(resolve("industrial-park"))
    assert {g.metric for g in sc.gates} >= {"pq_alarm_recall", "pq_alarms_false",
                                            "voltage_rate_error_pp_by_phase.b"}


def test_three_phase_698_meters_raise_the_same_alarms_from_their_phase_objects():
    d = doc()
    d["population"]["protocol_698_share"] = 1.0
    d["fault"] = [f for f in d["fault"] if f["kind"] != "reverse_sequence" and f["start_h"] > 123]
    d["tasks"]["event_every_h"] = 0             # the event records are read from 645 meters only
    report = Run(Scenario.from_dict(d)).run().report({})
    assert [(t["erc"], t["phase"], t["found"]) for t in report["pq_alarms"]["truth"]] == [
        (10, "b", True), (9, "c", True), (17, None, True), (17, None, True)]
    assert report["pq_alarms_false"] == 0 and report["passed"], report["gates"]


def test_on_hplc_the_module_carries_the_same_reads_and_alarms():
    d = doc()
    d["area"]["medium"] = "hplc"
    report = Run(Scenario.from_dict(d)).run().report({})
    assert (report["pq_alarms_true"], report["pq_alarms_found"], report["pq_alarms_false"]) == (
        6, 6, 0)
    assert report["passed"], report["gates"]
