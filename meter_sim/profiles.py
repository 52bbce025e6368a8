"""Load profiles with a day and week shape and seeded noise, integrated exactly and lazily.

A ``WeeklyProfile`` is piecewise constant by hour: the hourly shape of the kind (residential or
commercial), times a weekday/weekend factor, times a per-day and per-hour noise factor drawn from
the meter's seed. Nothing is evaluated until a meter is asked; each day's 24 values are drawn once
and cached, so the energy between any two instants is an exact sum.
"""
import random

from meter_sim.firmware.load import DAY, DEFAULT_TOU, TARIFFS

# Mean hourly shape (fraction of the daily peak), evening peak at 19-21 h.
RESIDENTIAL = (0.30, 0.25, 0.22, 0.20, 0.20, 0.25, 0.45, 0.60, 0.50, 0.40, 0.40, 0.45,
               0.50, 0.45, 0.40, 0.40, 0.50, 0.70, 0.90, 1.00, 0.95, 0.80, 0.60, 0.40)
COMMERCIAL = (0.15, 0.15, 0.15, 0.15, 0.15, 0.20, 0.35, 0.60, 0.90, 1.00, 1.00, 0.95,
              0.85, 0.95, 1.00, 1.00, 0.95, 0.85, 0.60, 0.40, 0.30, 0.20, 0.15, 0.15)
KINDS = {
    # shape, peak kW range, weekend factor
    "residential": (RESIDENTIAL, (0.8, 3.5), 1.15),
    "commercial": (COMMERCIAL, (3.0, 12.0), 0.45),
}


def weekday(t):
    """0 = Monday .. 6 = Sunday for naive local seconds ``t`` (1970-01-01 was a Thursday)."""
    return (int(t // DAY) + 3) % 7


class WeeklyProfile:
    """Hourly demand (kW) with weekday/weekend shape and seeded day and hour noise."""

    def __init__(self, kw_by_hour, seed, weekend_factor=1.0, day_sigma=0.12, hour_sigma=0.2,
                 tou=DEFAULT_TOU):
        if len(kw_by_hour) != 24 or len(tou) != 24:
            raise ValueError("need 24 hourly values and 24 tariffs")
        self.kw = tuple(float(k) for k in kw_by_hour)
        self.seed = seed
        self.weekend_factor = weekend_factor
        self.day_sigma = day_sigma
        self.hour_sigma = hour_sigma
        self.tou = tuple(tou)
        self._days = {}
        self._last_head = None

    def _day(self, day):
        """(kW by hour, cumulative kWh per tariff at each hour boundary) of day number ``day``."""
        got = self._days.get(day)
        if got is not None:
            return got
        rng = random.Random("%s/%d" % (self.seed, day))
        factor = max(0.1, rng.gauss(1.0, self.day_sigma))
        if weekday(day * DAY) >= 5:
            factor *= self.weekend_factor
        kw = [max(0.0, k * factor * rng.gauss(1.0, self.hour_sigma)) for k in self.kw]
        cum = [[0.0] * TARIFFS]
        for h in range(24):
            row = list(cum[-1])
            row[self.tou[h] - 1] += kw[h]
            cum.append(row)
        got = (kw, cum)
        if len(self._days) > 64:
            self._days.clear()
        self._days[day] = got
        return got

    def power(self, t):
        kw, _ = self._day(int(t // DAY))
        return kw[int((t % DAY) // 3600)]

    def _within(self, day, sec):
        """kWh per tariff from the start of ``day`` to ``sec`` seconds into it."""
        kw, cum = self._day(day)
        h = min(int(sec // 3600), 23)
        out = list(cum[h])
        out[self.tou[h] - 1] += kw[h] * (sec - h * 3600) / 3600.0
        return out

    def between(self, t0, t1):
        if t1 <= t0:
            return [0.0] * TARIFFS
        d0, d1 = int(t0 // DAY), int(t1 // DAY)
        head = self._head(t0, d0, d1)
        b = self._within(d1, t1 - d1 * DAY)
        if d0 == d1:
            return [b[i] - head[i] for i in range(TARIFFS)]
        return [head[i] + b[i] for i in range(TARIFFS)]

    def _head(self, t0, d0, d1):
        """kWh per tariff from day ``d0``'s start to ``t0`` (``d1`` == ``d0``), else from ``t0``
        to day ``d1``'s start; the last one is kept (a curve read asks one ``t0``, many ends)."""
        key = (t0, d1)
        last = self._last_head
        if last is not None and last[0] == key:
            return last[1]
        a = self._within(d0, t0 - d0 * DAY)
        if d0 == d1:
            out = a
        else:
            out = [self._day(d0)[1][24][i] - a[i] for i in range(TARIFFS)]
            for d in range(d0 + 1, d1):
                full = self._day(d)[1][24]
                for i in range(TARIFFS):
                    out[i] += full[i]
        self._last_head = (key, out)
        return out


def make_profile(kind, rng, seed):
    """A profile of ``kind`` with a peak drawn from ``rng`` and noise seeded by ``seed``."""
    shape, (lo, hi), weekend = KINDS[kind]
    peak = rng.uniform(lo, hi)
    return WeeklyProfile([s * peak for s in shape], seed, weekend)
