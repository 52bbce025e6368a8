"""The theft scenario's smallest case: the unmodified agent computes each day's line loss from the
area meter and its customers' freezes, within rounding of the simulator's true loss, and hints at
the one customer bypassing from day 3; without theft no hint, and a dead meter makes days
incomplete instead of a loss."""
import pytest

from edge.lineloss import hints
from hil.figures import figure_paths, known_figure
from hil.scenario import Scenario
from hil.scenario_run import Run, run_scenario

THIEF = 7


def doc(fraction=0.8, dead=(), cover=False):
    faults = [{"kind": "bypass", "meters": [THIEF], "start_h": 168, "fraction": fraction}]
    if cover:                           # the cover opened for half an hour to fit the bypass
        faults.append({"kind": "cover_open", "meters": [THIEF], "start_h": 167.2, "end_h": 167.7})
    if dead:
        faults.append({"kind": "dead", "meters": list(dead)})
    return {"scenario": {"name": "theft-small", "seed": 2, "start": "2026-01-06 00:00",
                         "hours": 120},
            "area": {"meters": 40, "medium": "hplc"}, "population": {"local_share": 0.0},
            "area_meter": {"ct_ratio": 40}, "fault": faults,
            "tasks": {"curve_every_min": 0, "event_every_h": 0},
            "gate": [{"metric": "line_loss_error_pp", "op": "<=", "value": 0.05}]}


@pytest.mark.timeout(60)
def test_the_agent_measures_the_true_loss_and_hints_at_the_thief():
    report, _ = run_scenario(Scenario.from_dict(doc()))
    thief = "%012d" % (THIEF + 1)
    ll = report["line_loss"]
    assert ll["thieves"] == [thief]
    days = [d for d in ll["days"] if d["status"] == "complete"]
    assert [d["period"] for d in days] == ["2026-01-%02d" % d for d in range(6, 10)]
    assert report["line_loss_error_pp"] <= 0.05 and report["passed"]
    assert [d["stolen_kwh"] > 0 for d in days] == [False, False, True, True]
    # the theft starts 2026-01-08 00:00; that day's loss is computed after 2026-01-09 06:00
    assert ll["hints"][0]["period"] == "2026-01-08" and ll["hints"][0]["candidates"][0] == thief
    assert report["theft_detect_days"] == 1.25 and report["true_hint_rate"] == 1.0
    assert report["false_hint_days"] == 0
    assert [n for n in figure_paths(report) if not known_figure(n)] == []
    again, _ = run_scenario(Scenario.from_dict(doc()))          # the same seed, the same run
    assert again["line_loss"] == ll


@pytest.mark.timeout(60)
def test_no_theft_no_hint_and_a_dead_customer_is_an_incomplete_day_not_a_loss():
    report, _ = run_scenario(Scenario.from_dict(doc(fraction=0.0)))
    assert report["line_loss"]["hints"] == [] and report["false_hint_rate"] == 0.0
    assert report["line_loss_days_complete"] == 4
    report, _ = run_scenario(Scenario.from_dict(doc(dead=[3])))
    days = report["line_loss"]["days"]
    assert {d["status"] for d in days[1:]} == {"incomplete"}
    assert {d["missing"] for d in days[1:]} == {1} and {d["rate"] for d in days} == {None}
    assert report["line_loss_error_pp"] is None and not report["passed"]      # a missing figure fails


def test_bypass_takes_a_fraction_and_nothing_else():
    bad = doc()
    bad["fault"][0]["p"] = 0.5
    del bad["fault"][0]["fraction"]
    with pytest.raises(ValueError) as err:
        Scenario.from_dict(bad)
    assert "fault[0].fraction" in str(err.value) and "fault[0].p" in str(err.value)


def test_a_fleet_reports_the_worst_area():
    from hil.lineloss_run import merge
    a = {"line_loss_error_pp": 0.01, "line_loss_days_complete": 4, "theft_detect_days": 1.25,
         "true_hint_rate": 1.0, "false_hint_rate": 0.0, "false_hint_days": 0, "line_loss": {}}
    b = dict(a, line_loss_error_pp=0.03, theft_detect_days=None, false_hint_days=1)
    got = merge([a, b])
    assert got["line_loss_error_pp"] == 0.03 and got["theft_detect_days"] is None
    assert got["false_hint_days"] == 1 and got["line_loss_days_complete"] == 4
    assert merge([{"line_loss": None}])["line_loss_error_pp"] is None


@pytest.mark.timeout(60)
def test_the_agent_reads_the_named_customers_cover_record_and_ranks_on_it():
    run = Run(Scenario.from_dict(doc(cover=True))).run()
    found = hints(run.store)
    thief = "%012d" % (THIEF + 1)
    assert [h["period"] for h in found] == ["2026-01-08", "2026-01-09"]
    # the onset day's hint names it on its consumption; the agent then reads its cover record
    assert found[0]["candidates"][0]["evidence"] == ["consumption_fell"]
    assert found[1]["candidates"][0]["addr"] == thief
    assert found[1]["candidates"][0]["evidence"] == ["consumption_fell", "cover_opened"]
    assert found[1]["candidates"][0]["cover_opened"].startswith("2026-01-07 23:")
    assert all(len(c["evidence"]) == 1 for c in found[1]["candidates"][1:])
