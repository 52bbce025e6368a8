"""The supply voltage at each meter: the transformer's LV bus, minus a feeder drop that grows
with the area's load and the meter's place down the feeder, minus its own service drop, plus noise.

``v(t) = source_v - feeder_drop_v * position * shape(hour) - service_v_per_kw * own_kw + noise``;
``shape`` is the area's mean residential day (1.0 at the evening peak), ``position`` 0..1 the
meter's distance along the feeder (0: at the transformer), the noise a seeded N(0, noise_v) per
minute. An ``undervoltage`` / ``overvoltage`` fault spell holds the supply at its ``volts``.
"""
import random

from meter_sim.profiles import RESIDENTIAL

MINUTE = 60.0
DEFAULTS = {"source_v": 230.0, "feeder_drop_v": 14.0, "service_v_per_kw": 0.8, "noise_v": 1.0}


class SupplyModel:
    """Supply voltage (V) at one meter; ``spells`` are (start, end or None, volts)."""

    def __init__(self, key, position, source_v=230.0, feeder_drop_v=14.0, service_v_per_kw=0.8,
                 noise_v=1.0):
        self.key = key
        self.position = float(position)
        self.source_v = float(source_v)
        self.feeder_drop_v = float(feeder_drop_v)
        self.service_v_per_kw = float(service_v_per_kw)
        self.noise_v = float(noise_v)
        self.spells = []

    def spell_at(self, t):
        for start, end, volts in self.spells:
            if start <= t and (end is None or t < end):
                return volts
        return None

    def volts(self, t, own_kw):
        """The voltage the meter measures at ``t`` while drawing ``own_kw``."""
        minute = int(t // MINUTE)
        noise = random.Random("%s/%d" % (self.key, minute)).gauss(0.0, self.noise_v) \
            if self.noise_v else 0.0
        held = self.spell_at(t)
        if held is not None:
            return held + noise
        hour = int((t % 86400.0) // 3600.0)
        return (self.source_v - self.feeder_drop_v * self.position * RESIDENTIAL[hour]
                - self.service_v_per_kw * own_kw + noise)
