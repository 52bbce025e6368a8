"""Minute-level collection in a scenario (hil/scenarios/minute.toml): 10 meters at 1 min and 20
at 15 min among 100 HPLC meters for a day; the unmodified agent holds every slot the meters'
curves hold, each equal to the meter's own point, back-fills the slots an intermittent meter
missed, and the group meters' daily freezes are read as well as the others'."""
import pytest

from edge.schema import read_toml
from hil.figures import figure_paths, known_figure
from hil.scenario import Scenario, resolve
from hil.scenario_run import Run


def _doc(**minute):
    doc = read_toml(resolve("minute"))
    doc["tasks"]["minute"].update(minute)
    return doc


@pytest.mark.timeout(60)
def test_every_minute_slot_is_held_and_the_daily_freeze_is_not_starved():
    report = Run(Scenario.from_dict(_doc())).run().report({})
    assert report["passed"], report["gates"]
    assert [n for n in figure_paths(report) if not known_figure(n)] == []
    m = report["minute"]
    assert m["meters"] == 30 and m["by_interval"]["1"]["meters"] == 10
    assert m["by_interval"]["1"]["points_due"] == 10 * 15 * m["slots"]
    assert m["completeness"] == 1.0 and m["wrong_points"] == 0
    assert m["backfilled_slots"] >= 1                  # missed in their window, then recovered
    assert m["freeze_read_rate_group"] >= m["freeze_read_rate_rest"]


@pytest.mark.timeout(60)
def test_without_back_fill_the_slots_an_intermittent_meter_missed_stay_missing():
    report = Run(Scenario.from_dict(_doc(backfill_slots=0))).run().report({})
    m = report["minute"]
    assert m["backfilled_slots"] == 0 and m["completeness"] < 1.0


@pytest.mark.timeout(60)
def test_698_meters_give_their_minute_freeze_5002_the_same_way():
    doc = _doc()
    doc["population"] = {"protocol_698_share": 0.5}
    doc["scenario"]["hours"] = 8
    run = Run(Scenario.from_dict(doc)).run()
    protocols = {run.agent.archive.meters["%012d" % (i + 1)].protocol for i in range(30)}
    assert protocols == {"645-2007", "698.45"}
    m = run.report({})["minute"]
    assert m["completeness"] == 1.0 and m["wrong_points"] == 0 and m["points_due"] == 4080


@pytest.mark.timeout(60)
def test_meters_left_at_15_min_fail_the_gates(monkeypatch):
    from hil import minute_run
    monkeypatch.setattr(minute_run, "configure", lambda *a: {})     # nobody set the meters
    doc = _doc()
    doc["scenario"]["hours"] = 6
    report = Run(Scenario.from_dict(doc)).run().report({})
    m = report["minute"]
    assert m["by_interval"]["1"]["completeness"] < 0.2 and m["wrong_points"] > 0
    assert not report["passed"]
