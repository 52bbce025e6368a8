"""The field-faults scenario (hil/scenarios/field-faults.toml): a carrier port and an RS-485
port with every fault that costs readings. Against the fault schedule: every missed meter-day
of the agent's lists carries its true cause, both swaps are found (the wired one by the address
search), the module reset is kept with its time lost, the flat-battery clock is set right; the
report carries only declared figures and shows the causes."""
import pytest

from hil.figures import figure_paths, known_figure
from hil.report import render_html
from hil.scenario import Scenario, ScenarioError
from hil.scenario_run import Run


@pytest.mark.timeout(60)
def test_the_field_faults_area_names_every_missed_reading_with_its_true_cause():
    run = Run(Scenario.load("field-faults")).run()
    report = run.report({})
    assert report["passed"], [g for g in report["gates"] if not g["passed"]]
    assert [n for n in figure_paths(report) if not known_figure(n)] == []
    assert report["missed_causes_total"] >= 30
    assert report["missed_causes_right"] == report["missed_causes_total"]
    causes = {d["truth"] for d in report["field_faults"]["missed"]}
    assert causes == {"phantom", "swapped", "outage", "clock", "bus_fault", "module_reset",
                      "no_answer"}
    [w] = report["field_faults"]["module_resets"]
    assert w["at"].startswith("2026-01-07 00:04") and 0 < report["module_reset_lost_s"] < 60
    assert report["swaps_found"] == report["swaps_true"] == 2 and report["swaps_false"] == 0
    assert report["clocks_corrected"] == report["clock_resets_true"] == 1
    assert report["wrong_values"] == 0
    # the cross-area meter: reported, never read as ours, so none of its days is "missed"
    assert report["cross_area_found"] == report["cross_area_true"] == 1
    assert report["foreign_false"] == report["foreign_read"] == 0
    assert "000000000024" not in {d["addr"] for d in report["field_faults"]["missed"]}
    page = render_html(report, {})
    assert "why readings were missed" in page and "every cause right" in page


def test_rs485_meters_need_a_carrier_area():
    with pytest.raises(ScenarioError, match="rs485_meters"):
        Scenario.from_dict({"area": {"meters": 3, "medium": "rs485", "rs485_meters": 2}})
    with pytest.raises(ScenarioError, match="outside 0..4"):
        Scenario.from_dict({"area": {"meters": 3, "rs485_meters": 2},
                            "fault": [{"kind": "dead", "meters": [5]}]})
    with pytest.raises(ScenarioError, match="needs a carrier module"):
        Scenario.from_dict({"area": {"meters": 3, "medium": "rs485"},
                            "fault": [{"kind": "module_reset", "start_h": 2}]})
    with pytest.raises(ScenarioError, match="the area's, not a meter's"):
        Scenario.from_dict({"area": {"meters": 3},
                            "fault": [{"kind": "module_reset", "meters": [1], "start_h": 2}]})
