from protocols.civil import from_civil

from edge.plan import Settings, next_opening, open_windows
from edge.scheduler import CURVE, EVENT, FREEZE, BusScheduler, Job

MIDNIGHT = from_civil(2026, 1, 2)


def test_freeze_window_opens_after_midnight_and_names_the_day_before():
    freeze = Settings().tasks()[0]
    assert open_windows(freeze, MIDNIGHT + 200) == []
    (w,) = open_windows(freeze, MIDNIGHT + 400)
    assert w.period == "2026-01-01" and w.start == MIDNIGHT + 300 and w.deadline == MIDNIGHT + 6 * 3600
    assert open_windows(freeze, MIDNIGHT + 6 * 3600) == []
    assert next_opening(freeze, MIDNIGHT - 10) == MIDNIGHT + 300


def test_curve_windows_still_open_are_all_planned_after_a_restart():
    curve = [t for t in Settings().tasks() if t.name == "load_curve"][0]
    periods = [w.period for w in open_windows(curve, MIDNIGHT + 120)]
    assert periods == ["2026-01-01 23:00:00", "2026-01-01 22:00:00", "2026-01-01 21:00:00"]


def test_early_rereads_fill_gaps_but_humble_ones_wait_for_an_idle_bus():
    s = BusScheduler()
    s.submit(Job("flaky", FREEZE, not_before=100.0, early=0.0))
    s.submit(Job("curve", CURVE, not_before=0.0))
    assert [j.meter for j in s.ready(1.0)] == ["flaky"]       # freeze re-read before curves
    s.done(s.running[0], 1.0)
    s.submit(Job("dead", FREEZE, not_before=100.0, early=0.0, humble=True))
    assert [j.meter for j in s.ready(2.0)] == ["curve"]       # the offline meter waits
    s.done(s.running[0], 2.0)
    s.submit(Job("later", EVENT, not_before=50.0))
    assert s.wake_at(2.0) == 2.0 and [j.meter for j in s.ready(2.0)] == ["dead"]
