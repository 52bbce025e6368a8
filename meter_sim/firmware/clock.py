"""The meter's real-time clock: an offset and a drift from true time, set by time sync."""


class MeterClock:
    """clock(t) = c_ref + (t - t_ref) * (1 + drift_ppm / 1e6)."""

    def __init__(self, t0, offset=0.0, drift_ppm=0.0):
        self.rate = 1.0 + drift_ppm * 1e-6
        self.t_ref = t0
        self.c_ref = t0 + offset
        self.last_set = t0       # true time of the last set (freeze make-ups start here)

    def read(self, t):
        return self.c_ref + (t - self.t_ref) * self.rate

    def true_time(self, c):
        return self.t_ref + (c - self.c_ref) / self.rate

    def set(self, t, c):
        """Set the clock to ``c`` at true time ``t``."""
        self.t_ref = t
        self.c_ref = c
        self.last_set = t

    def jump(self, t, delta):
        """A fault: the clock jumps by ``delta`` seconds at ``t``."""
        self.set(t, self.read(t) + delta)
