"""Voltage quality in a scenario: the unmodified agent's day rates follow the simulator's true
supply, an undervoltage and an overvoltage spell are each raised as ERC24, nothing else is."""
import pytest

from hil.scenario import Scenario
from hil.scenario_run import Run


def doc():
    # population epoch 2026-01-01: start_h 130 is 2026-01-06 10:00, the run's first day
    return {"scenario": {"name": "pq-small", "seed": 2, "start": "2026-01-06 00:00",
                         "hours": 25},
            "area": {"meters": 4, "medium": "rs485"}, "population": {"local_share": 0.0},
            "fault": [{"kind": "undervoltage", "meters": [1], "start_h": 130, "end_h": 132,
                       "volts": 185.0},
                      {"kind": "overvoltage", "meters": [2], "start_h": 140.2, "end_h": 141,
                       "volts": 241.0}],
            "tasks": {"curve_every_min": 0, "event_every_h": 0, "realtime_s": 900},
            "gate": [{"metric": "voltage_rate_error_pp", "op": "<=", "value": 2.0},
                     {"metric": "voltage_spell_recall", "op": ">=", "value": 1.0},
                     {"metric": "voltage_spells_false", "op": "<=", "value": 0}]}


@pytest.mark.timeout(60)
def test_day_rates_follow_the_truth_and_each_spell_is_one_erc24():
    report = Run(Scenario.from_dict(doc())).run().report({})
    assert report["voltage_days"] == 4
    assert (report["voltage_spells_true"], report["voltage_spells_found"],
            report["voltage_spells_false"]) == (2, 2, 0)
    rates = {d["addr"]: d for d in report["voltage"]["days"]}
    assert rates["000000000002"]["rate"] < 0.93 and rates["000000000003"]["rate"] < 0.98
    assert rates["000000000001"]["rate"] == 1.0
    assert report["passed"], report["gates"]


def test_a_missed_spell_fails_the_gate():
    d = doc()
    d["tasks"]["realtime_s"] = 0                # no real-time reads: nothing seen
    report = Run(Scenario.from_dict(d)).run().report({})
    assert report["voltage_spells_found"] == 0 and not report["passed"]


def test_without_real_time_reads_the_voltage_curve_gives_the_day_rates():
    d = doc()
    d["tasks"].update(realtime_s=0, voltage_curve_every_min=60)
    d["scenario"]["hours"] = 26                 # 01-06 closes at the first 01:00..02:00 curve
    d["gate"] = [{"metric": "voltage_rate_error_pp", "op": "<=", "value": 2.0}]
    report = Run(Scenario.from_dict(d)).run().report({})
    assert report["passed"], report["gates"]
    rates = {x["addr"]: x for x in report["voltage"]["days"] if x["day"] == "2026-01-06"}
    assert len(rates) == 4
    assert abs(rates["000000000002"]["rate"] - 1320 / 1440) < 0.011
