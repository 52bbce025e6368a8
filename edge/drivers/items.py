"""Protocol-neutral read items and relay commands: what a job wants, not how a meter is asked.

A driver answers each read item with one value: ``DAILY_FREEZE`` {"time": seconds or None,
"kwh": [total, tariff 1..4]} of the last daily freeze; ``SETTLEMENT_ENERGY`` the forward active
energy list at the last settlement day; ``ENERGY_NOW`` the forward active energy
list [total, tariff 1..4] (kWh); ``VOLTAGE_A`` volts; ``CURRENT_A`` amperes; ``METER_CLOCK`` the
meter's local seconds; ``RELAY_STATUS`` the relay state as a 645 status word 3 (bits 4 open,
6 trip commanded, 7 alarm, 12 keep-power), the one form the prepaid journal verifies.
"""
DAILY_FREEZE = "daily_freeze"
SETTLEMENT_ENERGY = "settlement_energy"
ENERGY_NOW = "energy_now"
VOLTAGE_A = "voltage_a"
CURRENT_A = "current_a"
METER_CLOCK = "meter_clock"
RELAY_STATUS = "relay_status"
ITEMS = (DAILY_FREEZE, SETTLEMENT_ENERGY, ENERGY_NOW, VOLTAGE_A, CURRENT_A, METER_CLOCK, RELAY_STATUS)

# relay commands: the prepaid policy's action names, one set for every protocol
from edge.prepaid.policy import (ACTIONS as COMMANDS, ALARM, ALARM_RELEASE, ALLOW_CLOSE,  # noqa: E402,F401
                                 DIRECT_CLOSE, KEEP_POWER, KEEP_POWER_RELEASE, TRIP)


class Unanswered(ValueError):
    """An item has no normal value in the replies (missing, refused or of the wrong kind)."""
