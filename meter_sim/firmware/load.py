"""Energy sources: demand as a function of time, integrated exactly (no per-minute events).

A source has ``power(t)`` (kW demanded) and ``between(t0, t1)`` (kWh per tariff consumed over
the interval, as if the relay were closed throughout). The meter gates it with its relay.
"""

DAY = 86400
# Tariff of each hour (1 sharp, 2 peak, 3 flat, 4 valley): a common provincial TOU table.
DEFAULT_TOU = (4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 2, 2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 2, 3, 4)
TARIFFS = 4


class HourlyProfile:
    """Piecewise-constant demand by hour of day (kW), tariffs by hour, optional scale."""

    def __init__(self, kw_by_hour, tou=DEFAULT_TOU, scale=1.0):
        if len(kw_by_hour) != 24 or len(tou) != 24:
            raise ValueError("need 24 hourly values and 24 tariffs")
        self.kw = [float(k) * scale for k in kw_by_hour]
        self.tou = tuple(tou)
        # cumulative kWh per tariff at each hour boundary of a day
        self._cum = [[0.0] * TARIFFS]
        for h in range(24):
            row = list(self._cum[-1])
            row[self.tou[h] - 1] += self.kw[h]
            self._cum.append(row)
        self._daily = self._cum[24]

    def power(self, t):
        return self.kw[int((t % DAY) // 3600)]

    def _cumulative(self, t):
        days = t // DAY
        sec = t - days * DAY
        h = int(sec // 3600)
        if h > 23:
            h = 23
        frac = (sec - h * 3600) / 3600.0
        row = self._cum[h]
        out = [days * self._daily[i] + row[i] for i in range(TARIFFS)]
        out[self.tou[h] - 1] += self.kw[h] * frac
        return out

    def between(self, t0, t1):
        if t1 <= t0:
            return [0.0] * TARIFFS
        a = self._cumulative(t0)
        b = self._cumulative(t1)
        return [b[i] - a[i] for i in range(TARIFFS)]


class ConstantLoad(HourlyProfile):
    """The same demand around the clock."""

    def __init__(self, kw, tou=DEFAULT_TOU):
        HourlyProfile.__init__(self, [kw] * 24, tou)
