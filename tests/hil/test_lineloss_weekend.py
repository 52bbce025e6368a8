"""Weekday/weekend baselines of the line-loss hints: a commercial area (meter_sim.profiles: the
weekend at 0.45 of a weekday) for two weeks. Judged against the median of every recent day, its
weekends are steps and name customers who merely closed for the weekend; judged against the
days of the same type, no hint at all, and a theft on a weekday is still hinted at once."""
import pytest

from hil.scenario import Scenario
from hil.scenario_run import run_scenario
from tests.hil.test_lineloss_scenario import doc


def _doc(day_types, theft=False):
    d = doc(fraction=0.8 if theft else 0.0)
    if theft:
        d["fault"][0]["start_h"] = 288          # 2026-01-13 00:00, a Tuesday of the second week
    d["scenario"]["hours"] = 13 * 24 + 7        # to 2026-01-19 07:00: the second Sunday closed
    d["population"]["commercial_share"] = 1.0
    d["area_meter"]["fixed_kw"] = 3.0           # a lighter weekend load: a larger loss share
    d["tasks"]["lineloss"] = {"day_types": day_types}
    return d


@pytest.mark.timeout(60)
def test_a_weekend_dip_is_a_false_hint_without_day_types_and_none_with_them():
    without, _ = run_scenario(Scenario.from_dict(_doc(False)))
    hinted = [h["period"] for h in without["line_loss"]["hints"]]
    assert hinted and all(p in ("2026-01-10", "2026-01-11", "2026-01-17", "2026-01-18")
                          for p in hinted)
    assert without["false_hint_days"] == len(hinted)
    with_types, _ = run_scenario(Scenario.from_dict(_doc(True)))
    assert with_types["line_loss"]["hints"] == [] and with_types["false_hint_days"] == 0
    assert with_types["line_loss_days_complete"] == without["line_loss_days_complete"] == 13


@pytest.mark.timeout(60)
def test_a_weekday_theft_is_still_hinted_the_day_it_starts():
    report, _ = run_scenario(Scenario.from_dict(_doc(True, theft=True)))
    first = report["line_loss"]["hints"][0]
    assert first["period"] == "2026-01-13" and first["candidates"][0] == report["line_loss"][
        "thieves"][0]
    assert report["false_hint_days"] == 0 and report["true_hint_rate"] == 1.0
