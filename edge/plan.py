"""When tasks run: windows aligned to local midnight, and the task list built from settings.

A task with period ``every_s`` (dividing a day) has a boundary every ``every_s`` from midnight;
its window opens ``offset_s`` after the boundary and closes ``deadline_s`` after it. Windows still
open when the agent (re)starts are planned again; jobs skip what the store already holds.
"""
from protocols.civil import DAY, midnight

from edge.health import HealthPolicy
from edge.lineloss import LINELOSS, LineLossPolicy
from edge.minute import MINUTE, MinuteCurve, MinutePolicy
from edge.swaps import SWAPS, SwapPolicy
from edge.phase_events import PhaseEvents
from edge.area_ident import AREAID, AreaIdentPolicy
from edge.jobs import (ClockCheck, DailyFreeze, LoadCurve, PowerDownEvents, Realtime, Settlement,
                       VoltageCurve,
                       Window)
from edge.schema import INHERIT, Bool, Float, Int, Section, Table
from edge.validate import Limits


class Settings:
    """Task timing and policies; every figure is a parameter (``[tasks]`` in agent.toml,
    declared in ``TASKS``): values out of range raise ``SchemaError`` naming each."""

    FIELDS = ("freeze_offset_s", "freeze_deadline_h", "curve_every_min", "curve_interval_min",
              "curve_deadline_h", "event_every_h", "clock_check_h", "realtime_s",
              "voltage_curve_every_min", "response_timeout_s", "retries", "module_timeout_s", "gap_s", "clock_correct")

    def __init__(self, freeze_offset_s=300.0, freeze_deadline_h=6.0, curve_every_min=60,
                 curve_interval_min=15, curve_deadline_h=3.0, event_every_h=4, clock_check_h=3.0,
                 realtime_s=0, response_timeout_s=0.5, retries=0, module_timeout_s=100.0,
                 gap_s=0.0, health=None, limits=None, lineloss=None, clock_correct=False,
                 voltage_curve_every_min=0, swaps=None, areaid=None, minute=None):
        TASKS.check_values({k: v for k, v in locals().items() if k in self.FIELDS})
        self.freeze_offset_s = freeze_offset_s
        self.freeze_deadline_h = freeze_deadline_h
        self.curve_every_min = curve_every_min          # 0: no load-curve task
        self.curve_interval_min = curve_interval_min
        self.curve_deadline_h = curve_deadline_h
        self.event_every_h = event_every_h              # 0: no event scan
        self.clock_check_h = clock_check_h              # hour of day; None or < 0: none
        self.realtime_s = realtime_s                    # 0: no periodic real-time reads
        self.voltage_curve_every_min = voltage_curve_every_min  # 0: no voltage curve
        self.response_timeout_s = response_timeout_s
        self.retries = retries
        self.module_timeout_s = module_timeout_s
        self.gap_s = gap_s
        self.clock_correct = clock_correct              # targeted time set of a drifted meter
        self.health = health or HEALTH.build({})
        self.limits = limits or Limits()
        self.lineloss = lineloss or LineLossPolicy()
        self.swaps = swaps or SwapPolicy()
        self.areaid = areaid or AreaIdentPolicy()
        self.minute = minute or MinutePolicy()

    @classmethod
    def from_dict(cls, doc, prefix="tasks"):
        """From the ``[tasks]`` table; SchemaError names every problem with its place."""
        return TASKS.build(doc, prefix)

    def tasks(self):
        """The periodic tasks these settings ask for, most important first."""
        out = [DailyFreeze(DAY, self.freeze_offset_s, self.freeze_deadline_h * 3600.0),
               Settlement(DAY, self.freeze_offset_s, DAY - 60.0)]
        if self.curve_every_min:
            every = self.curve_every_min * 60.0
            out.append(LoadCurve(every, 60.0, self.curve_deadline_h * 3600.0,
                                 self.curve_interval_min, self.minute))
        if self.event_every_h:
            every = self.event_every_h * 3600.0
            out.append(PowerDownEvents(every, 120.0, every))
            out.append(PhaseEvents(every, 150.0, every))
        if self.clock_check_h is not None and self.clock_check_h >= 0:
            start = self.clock_check_h * 3600.0
            out.append(ClockCheck(DAY, start, start + 7200.0))
        if self.voltage_curve_every_min:
            every = self.voltage_curve_every_min * 60.0
            out.append(VoltageCurve(every, 90.0, self.curve_deadline_h * 3600.0,
                                    self.curve_interval_min, self.minute))
        if self.minute.groups:
            out.append(MinuteCurve(self.minute))
        if self.realtime_s:
            out.append(Realtime(float(self.realtime_s), 0.0, float(self.realtime_s)))
        return out


def _freeze_window(values):
    if values["freeze_deadline_h"] * 3600.0 <= values["freeze_offset_s"]:
        return [("freeze_deadline_h", "the freeze window closes (%g h) before it opens (%g s)"
                 % (values["freeze_deadline_h"], values["freeze_offset_s"]))]
    return []


def _voltage_band(values):
    if values["voltage_upper_v"] <= values["voltage_lower_v"]:
        return [("voltage_upper_v", "the voltage band is empty (%g..%g V)" % (
            values["voltage_lower_v"], values["voltage_upper_v"]))]
    return []


HEALTH = Section("tasks.health", "Per-meter health and the back-off of re-reads "
                 "(edge.health.HealthPolicy).", [
                     Int("suspect_after", INHERIT, 1, 1000, "failures", "failures before a "
                         "meter is suspect"),
                     Int("offline_after", INHERIT, 1, 1000, "failures", "failures before a "
                         "meter is offline ..."),
                     Float("offline_after_s", INHERIT, 0, DAY, "s", "... spread over at least "
                           "this long"),
                     Float("base_s", 5.0, None, 86400.0, "s", "first re-read back-off, doubling "
                           "per failure (soon: behind the fresh work)", gt=0),
                     Float("cap_s", INHERIT, None, 86400.0, "s", "back-off cap", gt=0),
                     Float("probe_s", 1800.0, None, 7 * 86400.0, "s", "re-probe offline meters "
                           "this often", gt=0),
                     Float("spread", INHERIT, 0, 1, "", "share of a back-off spread per meter"),
                     Float("idle_offline_s", INHERIT, 0, 86400.0, "s", "idle-bus re-reads of "
                           "an offline meter at most this often"),
                     Float("recent_s", INHERIT, 0, 7 * 86400.0, "s", "a meter heard this "
                           "recently is flaky, not offline"),
                 ], target=HealthPolicy)
LIMITS = Section("tasks.limits", "Reading validation thresholds (edge.validate.Limits).", [
    Float("max_kw", INHERIT, None, 100000.0, "kW", "most the supply can deliver; bigger jumps "
          "are flagged", gt=0),
    Float("jump_margin", INHERIT, 1.0, 100.0, "", "margin on max_kw before a jump is flagged"
          " (ERC28 over-difference)"),
    Float("flying_margin", INHERIT, 1.0, 9.9, "", "margin on max_kw beyond which the meter is "
          "flying (ERC29)"),
    Float("stopped_s", INHERIT, 900.0, 86400.0, "s", "a register standing still with current "
          "flowing this long is stopped (ERC30)"),
    Float("stopped_current_a", INHERIT, None, 1000.0, "A", "current that counts as flowing",
          gt=0),
    Float("clock_s", INHERIT, None, 86400.0, "s", "meter clock deviation flagged beyond", gt=0),
    Float("freeze_tolerance_s", INHERIT, 0, 86400.0, "s", "freeze stamp off midnight by at "
          "most"),
    Float("tariff_tolerance_kwh", INHERIT, 0, 1000.0, "kWh", "tariff registers may miss the "
          "total by this per register"),
    Float("voltage_lower_v", INHERIT, 0, 1000.0, "V", "supply voltage qualified from (GB/T "
          "12325, 220 V single phase: -10 %); below: under the limit, ERC24"),
    Float("voltage_upper_v", INHERIT, 0, 1000.0, "V", "... up to (+7 %); above: over the limit"),
    Float("phase_loss_v", INHERIT, 0, 1000.0, "V", "a three-phase meter's phase below this is "
          "lost: ERC10 phase break (current below phase_current_a) or loss of voltage"),
    Float("phase_current_a", INHERIT, None, 1000.0, "A", "current that counts on a phase "
          "(ERC9 reversed at minus this, ERC10 break/loss, ERC17)", gt=0),
    Float("current_imbalance_pct", INHERIT, None, 100.0, "%", "current imbalance (max - min) / "
          "max beyond which ERC17 is raised", gt=0),
    Float("voltage_imbalance_pct", INHERIT, None, 100.0, "%", "voltage imbalance (max - min) / "
          "max beyond which ERC17 is raised (D0; default 4, GB/T 15543's short-time limit, "
          "there on the negative-sequence ratio)",
          gt=0),
], checks=[_voltage_band], target=Limits)
TASKS = Section("tasks", "When the agent reads what (edge.plan.Settings); windows are aligned "
                "to local midnight.", [
                    Float("freeze_offset_s", INHERIT, 0, DAY - 1, "s", "daily freeze: reading "
                          "starts this long after midnight"),
                    Float("freeze_deadline_h", INHERIT, None, 24, "h", "... and is re-read until "
                          "this many hours after midnight", gt=0),
                    Int("curve_every_min", INHERIT, 0, 1440, "min", "read the load curve every "
                        "(0: off)", divides=1440),
                    Int("curve_interval_min", INHERIT, 1, 1440, "min", "the meters' curve "
                        "interval"),
                    Float("curve_deadline_h", INHERIT, None, 24, "h", "a curve slot is re-read "
                          "for this long", gt=0),
                    Int("event_every_h", INHERIT, 0, 24, "h", "power-down event scan every "
                        "(0: off)", divides=24),
                    Float("clock_check_h", INHERIT, -1, 23.99, "h", "hour of the broadcast time "
                          "sync and clock check (negative: off)", nullable=True),
                    Int("realtime_s", INHERIT, 0, DAY, "s", "periodic real-time reads every "
                        "(0: off)", divides=DAY),
                    Int("voltage_curve_every_min", INHERIT, 0, 1440, "min", "read the 645-2007 "
                        "phase-A voltage curve (06100101) every (0: off); voltage-quality "
                        "samples where real-time reads are off", divides=1440),
                    Float("response_timeout_s", INHERIT, None, 60.0, "s", "RS-485 reply timeout",
                          gt=0),
                    Int("retries", INHERIT, 0, 10, "", "RS-485 re-sends of a request"),
                    Float("module_timeout_s", INHERIT, None, 3600.0, "s", "carrier module answer "
                          "timeout", gt=0),
                    Float("gap_s", INHERIT, 0, 60.0, "s", "silence between frames on a bus"),
                    Bool("clock_correct", INHERIT, doc="set the clock of a meter still off by "
                         "more than limits.clock_s after the broadcast, with a targeted 645 "
                         "write (04000101/04000102) where its archive record has a password, "
                         "or a 698 SET of 4000 (ciphered where archived secured)"),
                    Table("health", HEALTH), Table("limits", LIMITS),
                    Table("lineloss", LINELOSS), Table("swaps", SWAPS),
                    Table("areaid", AREAID),
                    Table("minute", MINUTE),
                ], checks=[_freeze_window], target=Settings)


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
