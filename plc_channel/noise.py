"""Noise over the day: background by hour, local noisy loads, impulsive bursts.

The background rise follows the evening load peak (CHANNEL.md: noise and attenuation vary with the
time of day - evening peak, switching loads, pumps, LED drivers, chargers); the hourly figures are
a documented guess exposed as a parameter. Local sources are seeded loads at some boxes that switch
on for hours each day and raise the noise near them, so a meter can be unreachable at 19:00 and fine
at 03:00. Impulsive noise is cheaper as bursts (Poisson arrivals) that hit the frames they overlap;
a hit frame sees the +20 dB impulsive waterfall shift.
"""
import math

from plc_channel.topology import ROOT

# dB above the quiet-night floor, hour 0..23 (guess shaped on the evening peak).
HOURLY_DB = (0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 1.5, 3.0, 3.0, 2.5, 2.0, 2.0,
             2.0, 2.0, 2.0, 2.5, 3.5, 5.0, 7.5, 9.0, 8.0, 6.0, 3.5, 1.5)
DEFAULTS = {
    "hourly_db": HOURLY_DB,
    "sources_per_100_boxes": 3.0,     # noisy loads (pumps, chargers, LED drivers)
    "source_db": (6.0, 22.0),         # rise at the source
    "source_decay_db_per_m": 0.25,
    "source_hours": (1.0, 6.0),       # how long a source stays on each day
    "burst_rate_per_h": (20.0, 120.0),  # impulsive bursts: quiet hours, evening peak
    "burst_s": 0.004,                 # mean burst length (microseconds to milliseconds)
}


class NoiseSource:
    """A load at ``box`` adding ``level_db`` (minus decay with distance) while on each day."""

    __slots__ = ("box", "level_db", "start_h", "hours")

    def __init__(self, box, level_db, start_h, hours):
        self.box = box
        self.level_db = level_db
        self.start_h = start_h
        self.hours = hours

    def on(self, t):
        h = (t % 86400.0) / 3600.0
        return (h - self.start_h) % 24.0 < self.hours


class NoiseModel:
    """Noise level (dB above the quiet floor) at a box at time ``t``, and burst hits."""

    def __init__(self, topology, rng, **params):
        p = dict(DEFAULTS)
        unknown = set(params) - set(p)
        if unknown:
            raise ValueError("unknown noise parameters: %s" % ", ".join(sorted(unknown)))
        p.update(params)
        if len(p["hourly_db"]) != 24:
            raise ValueError("hourly_db needs 24 values")
        self.topology = topology
        self.hourly = tuple(float(x) for x in p["hourly_db"])
        self._peak = max(max(self.hourly), 1e-9)
        self.decay = float(p["source_decay_db_per_m"])
        self.burst_rate = tuple(float(x) for x in p["burst_rate_per_h"])
        self.burst_s = float(p["burst_s"])
        n = int(round(len(topology.boxes) * p["sources_per_100_boxes"] / 100.0))
        self.sources = []
        for _ in range(n):
            box = rng.randrange(len(topology.boxes))
            evening = rng.random() < 0.7
            start = rng.uniform(17.0, 21.0) if evening else rng.uniform(0.0, 24.0)
            self.sources.append(NoiseSource(box, rng.uniform(*p["source_db"]), start,
                                            rng.uniform(*p["source_hours"])))
        self._near = {}

    def background(self, t):
        h = (t % 86400.0) / 3600.0
        k = int(h)
        f = h - k
        return self.hourly[k] * (1.0 - f) + self.hourly[(k + 1) % 24] * f

    def _sources_near(self, box):
        got = self._near.get(box)
        if got is None:
            got = []
            for s in self.sources:
                metres, _ = self.topology.box_distance(box, s.box)
                rise = s.level_db - self.decay * metres
                if rise > 0.5:
                    got.append((s, rise))
            self._near[box] = got
        return got

    def level(self, box, t):
        """dB above the quiet floor at ``box`` (``ROOT`` for the coordinator) at ``t``.

        Background and active local sources add as powers.
        """
        bg = self.background(t)
        if box == ROOT:
            return bg
        power = 0.0
        for s, rise in self._sources_near(box):
            if s.on(t):
                power += 10.0 ** (rise / 10.0)
        if not power:
            return bg
        return 10.0 * math.log10(10.0 ** (bg / 10.0) + power)

    def burst_probability(self, t, duration):
        """Chance that an impulsive burst overlaps a frame of ``duration`` seconds at ``t``."""
        quiet, peak = self.burst_rate
        frac = self.hourly[int((t % 86400.0) // 3600)] / self._peak
        rate = (quiet + (peak - quiet) * frac) / 3600.0
        return 1.0 - math.exp(-rate * (duration + self.burst_s))
