"""Hourly line loss in the theft scenario's smallest case with the hourly load curve on: the
unmodified agent's hours are within the area meter's register resolution of the true loss, and a
dead customer makes every hour incomplete (missing 1), never a loss."""
import pytest

from hil.scenario import Scenario
from hil.scenario_run import run_scenario
from tests.hil.test_lineloss_scenario import doc


def _doc(**kw):
    d = doc(**kw)
    d["scenario"]["hours"] = 54                 # 2026-01-06 whole, computed at 01-07 06:00
    d["tasks"]["curve_every_min"] = 60
    return d


@pytest.mark.timeout(60)
def test_the_hours_of_a_day_follow_the_true_loss():
    report, _ = run_scenario(Scenario.from_dict(_doc(fraction=0.0)))
    day = [h for h in report["line_loss"]["hours"] if h["period"].startswith("2026-01-06")]
    assert len(day) == 24 and {h["status"] for h in day} == {"complete"}
    # CT 40 x 0.01 kWh register steps on a 20..60 kWh hour: within 1 percentage point
    assert report["line_loss_hours_complete"] >= 24
    assert report["line_loss_hour_error_pp"] <= 1.0


@pytest.mark.timeout(60)
def test_a_dead_customer_makes_every_hour_incomplete():
    report, _ = run_scenario(Scenario.from_dict(_doc(fraction=0.0, dead=[3])))
    day = [h for h in report["line_loss"]["hours"] if h["period"].startswith("2026-01-06")]
    assert {(h["status"], h["missing"]) for h in day} == {("incomplete", 1)}
    assert report["line_loss_hour_error_pp"] is None
