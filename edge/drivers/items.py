"""Protocol-neutral read items and relay commands: what a job wants, not how a meter is asked.

A driver answers each read item with one value: ``DAILY_FREEZE`` {"time": seconds or None,
"kwh": [total, tariff 1..4]} of the last daily freeze; ``SETTLEMENT_ENERGY`` the forward active
energy list at the last settlement day; ``ENERGY_NOW`` the forward active energy
list [total, tariff 1..4] (kWh); ``VOLTAGE_A`` volts; ``CURRENT_A`` amperes; ``METER_CLOCK`` the
meter's local seconds; ``RELAY_STATUS`` the relay state as a 645 status word 3 (bits 4 open,
6 trip commanded, 7 alarm, 12 keep-power), the one form the prepaid journal verifies;
``POWER_DOWN_COUNT`` the meter's power-down event count. Two items carry parameters:
``Curve(start, points, step_s)`` {"start": "YYYY-MM-DD hh:mm", "values": [kWh or None]} of the
forward active curve, and ``PowerDownRecords(count, new)`` [(record number, {"start", "end"} or
None)] of the ``new`` latest power-down records, newest first. ``PHASES`` (645-2007 only) a
three-phase meter's {"voltage": [a, b, c], "current": [a, b, c] (negative: reversed), "power":
[total, a, b, c], "pf": [total, a, b, c], "status_7": word, "reverse_kwh": total}.
``LastEvent(family)`` the latest record of an event family ({"start", "end"}, more fields as the
645 record has them; None: a 698.45 meter with no record).
"""
DAILY_FREEZE = "daily_freeze"
SETTLEMENT_ENERGY = "settlement_energy"
ENERGY_NOW = "energy_now"
VOLTAGE_A = "voltage_a"
CURRENT_A = "current_a"
METER_CLOCK = "meter_clock"
RELAY_STATUS = "relay_status"
POWER_DOWN_COUNT = "power_down_count"
LOAD_CURVE = "load_curve"
POWER_DOWN_RECORDS = "power_down_records"
PHASES = "phases"          # a three-phase meter's real-time values (edge.pq_phases)
LAST_EVENT = "last_event"  # the latest record of an event family (LastEvent)
SWITCH_FREEZE = "switch_freeze"   # last rate-price switch-over freeze, as DAILY_FREEZE (645-2007)
ITEMS = (DAILY_FREEZE, SWITCH_FREEZE, SETTLEMENT_ENERGY, ENERGY_NOW, VOLTAGE_A, CURRENT_A,
         METER_CLOCK, RELAY_STATUS, POWER_DOWN_COUNT, LOAD_CURVE, POWER_DOWN_RECORDS, PHASES,
         LAST_EVENT)


class Curve:
    """A load curve: ``points`` instants every ``step_s`` from ``start``; ``di`` the 645 curve
    item (forward active energy 06100601; phase-A voltage 06100101 on 645-2007 only)."""

    kind = LOAD_CURVE

    def __init__(self, start, points, step_s, di=0x06100601):
        self.start, self.points, self.step_s = int(start), int(points), int(step_s)
        self.di = di

    def __repr__(self):
        return "Curve(%d, %d, %d)" % (self.start, self.points, self.step_s)


class PowerDownRecords:
    """The ``new`` latest power-down event records of a meter whose count is ``count``."""

    kind = POWER_DOWN_RECORDS

    def __init__(self, count, new):
        self.count, self.new = int(count), int(new)

    def __repr__(self):
        return "PowerDownRecords(%d, %d)" % (self.count, self.new)


class LastEvent:
    """The latest record of an event family (a 645 ``EVENT_FIELDS`` name: ``"cover_open"``,
    ``"magnetic"``): {"start", "end", ...} with its times as ``YYYY-MM-DD hh:mm:ss``."""

    kind = LAST_EVENT

    def __init__(self, family):
        self.family = family

    def __repr__(self):
        return "LastEvent(%s)" % self.family


def kind(item):
    """The item's name: the item itself, or the kind of a parametrised one."""
    return getattr(item, "kind", item)

# relay commands: the prepaid policy's action names, one set for every protocol
from edge.prepaid.policy import (ACTIONS as COMMANDS, ALARM, ALARM_RELEASE, ALLOW_CLOSE,  # noqa: E402,F401
                                 DIRECT_CLOSE, KEEP_POWER, KEEP_POWER_RELEASE, TRIP)


class Unanswered(ValueError):
    """An item has no normal value in the replies (missing, refused or of the wrong kind)."""
