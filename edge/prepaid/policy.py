"""The cost-control policy: from a customer's balance and the meter's situation, the one relay or
alarm action to take now, or why none is taken. Pure: no store, no clock, no I/O.

Rules (CHANNEL.md, real prepaid firmware; PROTOCOLS.md 0x1C):
- balance <= trip threshold: trip (1A) - unless keep-power (保电) is set, a friendly window is on
  (nights, weekends, holidays defer credit trips), the supply is below the voltage guard, or the
  load is above the large-current limit and the deferral has not yet run out;
- a relay opened for credit closes only when the balance reaches the close-allowed amount and the
  supply is above the voltage guard: 1C direct close where configured, else 1B allow-close (the
  customer presses the button);
- alarm (2A) at or below the alarm threshold, released (2B) above it.
A relay opened by the master station is the master's to close: the policy never closes it.
"""
from protocols.civil import to_civil

TRIP = "trip"
ALLOW_CLOSE = "allow_close"
DIRECT_CLOSE = "direct_close"
ALARM = "alarm"
ALARM_RELEASE = "alarm_release"
KEEP_POWER = "keep_power"
KEEP_POWER_RELEASE = "keep_power_release"
ACTIONS = (TRIP, ALLOW_CLOSE, DIRECT_CLOSE, ALARM, ALARM_RELEASE, KEEP_POWER, KEEP_POWER_RELEASE)
CLOSES = (ALLOW_CLOSE, DIRECT_CLOSE)


class Thresholds:
    """Per-customer amounts in micro-yuan; ``direct_close`` picks 1C over 1B."""

    __slots__ = ("alarm", "trip", "close_allowed", "direct_close")

    def __init__(self, alarm, trip, close_allowed, direct_close=False):
        if not trip < close_allowed or not trip <= alarm:
            raise ValueError("thresholds need trip < close_allowed and trip <= alarm")
        self.alarm = alarm
        self.trip = trip
        self.close_allowed = close_allowed
        self.direct_close = direct_close


class Situation:
    """What the policy decides on: money, guards, and what we know of the relay."""

    __slots__ = ("balance", "thresholds", "keep_power", "friendly", "voltage_low",
                 "large_current_until", "now", "relay_open", "opened_for_credit", "alarm_on")

    def __init__(self, balance, thresholds, keep_power=False, friendly=False, voltage_low=False,
                 large_current_until=None, now=0.0, relay_open=False, opened_for_credit=False,
                 alarm_on=False):
        self.balance = balance
        self.thresholds = thresholds
        self.keep_power = keep_power
        self.friendly = friendly
        self.voltage_low = voltage_low
        self.large_current_until = large_current_until   # trip deferred until then (None: no load)
        self.now = now
        self.relay_open = relay_open
        self.opened_for_credit = opened_for_credit
        self.alarm_on = alarm_on


def decide(s):
    """(action or None, reason)."""
    th = s.thresholds
    if s.balance <= th.trip:
        if s.relay_open:
            return None, "open"
        for guard, reason in ((s.keep_power, "keep_power"), (s.friendly, "friendly_window"),
                              (s.voltage_low, "low_voltage")):
            if guard:
                return None, reason
        if s.large_current_until is not None and s.now < s.large_current_until:
            return None, "large_current"
        return TRIP, "balance_below_trip"
    if s.relay_open:
        if not s.opened_for_credit:
            return None, "opened_by_master"
        if s.balance < th.close_allowed:
            return None, "below_close_allowed"
        if s.voltage_low:
            return None, "low_voltage"
        return (DIRECT_CLOSE if th.direct_close else ALLOW_CLOSE), "paid"
    if s.balance <= th.alarm and not s.alarm_on:
        return ALARM, "balance_below_alarm"
    if s.balance > th.alarm and s.alarm_on:
        return ALARM_RELEASE, "balance_above_alarm"
    return None, "ok"


class FriendlyWindows:
    """When credit trips wait (友好时段): nights from ``night_from_h`` to ``night_to_h`` (local),
    weekends, and a holiday table of ``YYYY-MM-DD`` dates (at most 60, as meters hold)."""

    MAX_HOLIDAYS = 60

    def __init__(self, night_from_h=20.0, night_to_h=8.0, weekends=True, holidays=()):
        holidays = set(holidays)
        if len(holidays) > self.MAX_HOLIDAYS:
            raise ValueError("at most %d holidays, got %d" % (self.MAX_HOLIDAYS, len(holidays)))
        self.night = (night_from_h, night_to_h)
        self.weekends = weekends
        self.holidays = holidays

    def next_start(self, t, horizon_s):
        """The first minute at or after ``t`` (within ``horizon_s``) inside a window, or None."""
        for k in range(int(horizon_s // 60) + 1):
            if self.active(t + 60 * k):
                return t + 60 * k
        return None

    def active(self, t):
        y, m, d, hh, mm, ss, weekday = to_civil(t)
        if "%04d-%02d-%02d" % (y, m, d) in self.holidays:
            return True
        if self.weekends and weekday in (0, 6):
            return True
        h = hh + mm / 60.0
        start, end = self.night
        return (start <= h or h < end) if start > end else (start <= h < end)
