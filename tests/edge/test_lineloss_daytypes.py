"""Weekday/weekend baselines (``[tasks.lineloss] day_types``) in a real SQLite store: a weekend
whose loss share rises (the load fell, the fixed loss did not) is no step against the weekdays."""
from edge.lineloss import LineLossPolicy, close_day, day_type, hints
from edge.store import Store
from tests.edge.test_lineloss import DAYS, archive, fill

WEEKEND = ("2026-01-10", "2026-01-11")


def _weekend_dip(i, d):
    return 8.0 if DAYS[d] in WEEKEND else 20.0


def _loss(d):
    return 0.07 if DAYS[d] in WEEKEND else 0.04


def _hinted(tmp_path, day_types):
    store = Store(tmp_path / ("agent-%s.sqlite" % day_types))
    fill(store, _weekend_dip, _loss)
    policy = LineLossPolicy(step=0.01, day_types=day_types)
    for period in DAYS[1:]:
        close_day(store, archive(), period, policy, at=1.0)
    return [(h["period"], h["reasons"]) for h in hints(store)]


def test_a_weekend_dip_is_a_step_only_against_the_weekdays(tmp_path):
    assert _hinted(tmp_path, False) == [(WEEKEND[0], ["step_change"]),
                                        (WEEKEND[1], ["step_change"])]
    assert _hinted(tmp_path, True) == []


def test_day_types():
    on, off = LineLossPolicy(), LineLossPolicy(day_types=False)
    assert [day_type(p, on) for p in DAYS] == ["weekday"] * 5 + ["weekend"] * 2 + ["weekday"]
    assert {day_type(p, off) for p in DAYS} == {"day"}
