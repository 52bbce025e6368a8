"""When tasks run: windows aligned to local midnight, and the task list built from settings.

A task with period ``every_s`` (dividing a day) has a boundary every ``every_s`` from midnight;
its window opens ``offset_s`` after the boundary and closes ``deadline_s`` after it. Windows still
open when the agent (re)starts are planned again; jobs skip what the store already holds.
"""
from protocols.civil import DAY, midnight

from edge.health import HealthPolicy
from edge.jobs import (ClockCheck, DailyFreeze, LoadCurve, PowerDownEvents, Realtime, Settlement,
                       Window)
from edge.validate import Limits


# re-reads within a task start soon (behind the fresh work) and double from there
HEALTH_DEFAULTS = {"base_s": 5.0, "probe_s": 1800.0}


class Settings:
    """Task timing and policies; every figure is a parameter (``[tasks]`` in agent.toml)."""

    FIELDS = ("freeze_offset_s", "freeze_deadline_h", "curve_every_min", "curve_interval_min",
              "curve_deadline_h", "event_every_h", "clock_check_h", "realtime_s",
              "response_timeout_s", "retries", "module_timeout_s", "gap_s")

    def __init__(self, freeze_offset_s=300.0, freeze_deadline_h=6.0, curve_every_min=60,
                 curve_interval_min=15, curve_deadline_h=3.0, event_every_h=4, clock_check_h=3.0,
                 realtime_s=0, response_timeout_s=0.5, retries=0, module_timeout_s=100.0,
                 gap_s=0.0, health=None, limits=None):
        self.freeze_offset_s = freeze_offset_s
        self.freeze_deadline_h = freeze_deadline_h
        self.curve_every_min = curve_every_min          # 0: no load-curve task
        self.curve_interval_min = curve_interval_min
        self.curve_deadline_h = curve_deadline_h
        self.event_every_h = event_every_h              # 0: no event scan
        self.clock_check_h = clock_check_h              # hour of day; None or < 0: none
        self.realtime_s = realtime_s                    # 0: no periodic real-time reads
        self.response_timeout_s = response_timeout_s
        self.retries = retries
        self.module_timeout_s = module_timeout_s
        self.gap_s = gap_s
        self.health = health or HealthPolicy(**HEALTH_DEFAULTS)
        self.limits = limits or Limits()
        for name, every in (("curve_every_min", curve_every_min * 60),
                            ("event_every_h", event_every_h * 3600), ("realtime_s", realtime_s)):
            if every and DAY % every:
                raise ValueError("%s must divide a day, got %r" % (name, every))

    @classmethod
    def from_dict(cls, doc):
        unknown = set(doc) - set(cls.FIELDS) - {"health", "limits"}
        if unknown:
            raise ValueError("unknown [tasks] settings: %s" % ", ".join(sorted(unknown)))
        kw = {k: v for k, v in doc.items() if k in cls.FIELDS}
        health = dict(HEALTH_DEFAULTS)
        health.update(doc.get("health", {}))
        return cls(health=HealthPolicy(**health),
                   limits=Limits(**doc.get("limits", {})), **kw)

    def tasks(self):
        """The periodic tasks these settings ask for, most important first."""
        out = [DailyFreeze(DAY, self.freeze_offset_s, self.freeze_deadline_h * 3600.0),
               Settlement(DAY, self.freeze_offset_s, DAY - 60.0)]
        if self.curve_every_min:
            every = self.curve_every_min * 60.0
            out.append(LoadCurve(every, 60.0, self.curve_deadline_h * 3600.0,
                                 self.curve_interval_min))
        if self.event_every_h:
            every = self.event_every_h * 3600.0
            out.append(PowerDownEvents(every, 120.0, every))
        if self.clock_check_h is not None and self.clock_check_h >= 0:
            start = self.clock_check_h * 3600.0
            out.append(ClockCheck(DAY, start, start + 7200.0))
        if self.realtime_s:
            out.append(Realtime(float(self.realtime_s), 0.0, float(self.realtime_s)))
        return out


def open_windows(task, wall):
    """Windows of ``task`` open at ``wall`` (start <= wall < deadline), newest first."""
    day0 = midnight(wall)
    b = day0 + ((wall - day0) // task.every_s) * task.every_s
    out = []
    while b + task.deadline_s > wall:
        if b + task.offset_s <= wall:
            out.append(Window(task.name, task.period(b), b + task.offset_s, b + task.deadline_s, b))
        b -= task.every_s
    return out


def next_opening(task, wall):
    """The first window start of ``task`` after ``wall``."""
    day0 = midnight(wall)
    k = (wall - day0) // task.every_s
    candidates = [day0 + (k + j) * task.every_s + task.offset_s for j in (0, 1)]
    candidates.append(day0 + DAY + task.offset_s)
    return min(c for c in candidates if c > wall)
