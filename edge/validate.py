"""Reading validation: decide ok or invalid (with flags) before anything is stored as good.

Flagged readings are stored with their flags, never dropped or "fixed" (KPIS.md: a head-end must
tell a missing value from a wrong one). Checks: the register went backwards, a jump the meter's
load cannot explain (beyond ``flying_margin``: the meter is flying), the tariff registers do not add up to the total, the meter's clock is off by
more than a limit, a frozen value stamped with a time that is not the freeze of its day, and a
register that stood still while current flowed (from real-time reads). Pure logic: times are naive local seconds passed in.
"""
from protocols.civil import DAY, midnight

BACKWARDS = "register_backwards"
JUMP = "implausible_jump"
FLYING = "meter_flying"
STOPPED = "meter_stopped"
TARIFF_SUM = "tariff_sum_mismatch"
CLOCK = "clock_deviation"
FREEZE_TIME = "freeze_time_mismatch"


class Limits:
    """Thresholds; ``max_kw`` is the most the meter's supply can deliver (e.g. 60 A x 220 V)."""

    def __init__(self, max_kw=13.2, jump_margin=1.5, clock_s=300.0, freeze_tolerance_s=600.0,
                 tariff_tolerance_kwh=0.02, flying_margin=3.0, stopped_s=3600.0,
                 stopped_current_a=0.2, voltage_lower_v=198.0, voltage_upper_v=235.4,
                 phase_loss_v=132.0, phase_current_a=0.25, current_imbalance_pct=30.0,
                 voltage_imbalance_pct=4.0):
        self.max_kw = max_kw
        self.jump_margin = jump_margin
        self.flying_margin = flying_margin
        self.stopped_s = stopped_s
        self.stopped_current_a = stopped_current_a
        self.voltage_lower_v = voltage_lower_v      # GB/T 12325, 220 V single phase: -10 %
        self.voltage_upper_v = voltage_upper_v      # ... and +7 % (edge.pq)
        self.phase_loss_v = phase_loss_v            # 60 % of 220 V: a phase below is lost (ERC10)
        self.phase_current_a = phase_current_a      # current that counts on a phase (ERC9/10/17)
        self.current_imbalance_pct = current_imbalance_pct   # (max - min) / max over: ERC17
        self.voltage_imbalance_pct = voltage_imbalance_pct   # the same of the voltages
        self.clock_s = clock_s
        self.freeze_tolerance_s = freeze_tolerance_s
        self.tariff_tolerance_kwh = tariff_tolerance_kwh


def energy_flags(value, at, previous, limits):
    """Flags for a total energy ``value`` (kWh) at ``at``, given ``previous`` (kWh, at) or None."""
    if previous is None:
        return []
    prev_value, prev_at = previous
    if value < prev_value:
        return [BACKWARDS]
    hours = max((at - prev_at) / 3600.0, 1.0 / 60.0)
    ratio = (value - prev_value) / (limits.max_kw * hours)
    if ratio > max(limits.flying_margin, limits.jump_margin):
        return [FLYING]
    if ratio > limits.jump_margin:
        return [JUMP]
    return []


def stopped_flags(total, current, at, previous, limits):
    """(since, flags): since when the total register has stood still with current flowing, and
    STOPPED once that lasted ``stopped_s``. ``previous`` is (total, current, since) or None."""
    if previous is None or current is None or current < limits.stopped_current_a:
        return at, []
    p_total, p_current, p_since = previous
    if total != p_total or p_current is None or p_current < limits.stopped_current_a:
        return at, []
    return p_since, ([STOPPED] if at - p_since >= limits.stopped_s else [])


def tariff_flags(registers, limits):
    """``registers`` = [total, tariff 1..n]: the tariffs must add up to the total."""
    total, parts = registers[0], registers[1:]
    if parts and abs(sum(parts) - total) > limits.tariff_tolerance_kwh * max(1, len(parts)):
        return [TARIFF_SUM]
    return []


def clock_flags(meter_time, wall, limits):
    """The meter's clock reading against the concentrator's wall clock."""
    return [CLOCK] if abs(meter_time - wall) > limits.clock_s else []


def freeze_time_flags(stamp, day_start, limits):
    """A daily freeze for the day starting ``day_start`` is stamped at the next midnight."""
    expected = midnight(day_start) + DAY
    return [FREEZE_TIME] if abs(stamp - expected) > limits.freeze_tolerance_s else []


def validate_daily_freeze(registers, stamp, day_start, at, previous, limits):
    """(quality, flags) for a daily frozen energy block read at ``at``."""
    flags = (tariff_flags(registers, limits) + energy_flags(registers[0], at, previous, limits)
             + (freeze_time_flags(stamp, day_start, limits) if stamp is not None else []))
    return ("invalid" if flags else "ok"), flags
