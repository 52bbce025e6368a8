"""Energy registers as a ledger of marks: exact at any past time, consuming only while supplied."""


def _bisect_right(marks, t):
    lo, hi = 0, len(marks)
    while lo < hi:
        mid = (lo + hi) // 2
        if marks[mid][0] <= t:
            lo = mid + 1
        else:
            hi = mid
    return lo


class EnergyLedger:
    """Forward active kWh per tariff: marks (t, kWh at t, consuming) plus the source in between."""

    def __init__(self, source, t0, base=None, tariffs=4, keep_s=70 * 86400):
        self.source = source
        self.tariffs = tariffs
        self.keep_s = keep_s
        self._marks = [(t0, list(base) if base else [0.0] * tariffs, True)]
        self._last = None       # (t, kWh at t): a block read asks the same instant per member

    @property
    def consuming(self):
        return self._marks[-1][2]

    def at(self, t):
        """kWh per tariff at true time ``t`` (clamped to the first mark)."""
        last = self._last
        if last is not None and last[0] == t:
            return list(last[1])
        i = _bisect_right(self._marks, t)
        if i == 0:
            return list(self._marks[0][1])
        t_mark, base, on = self._marks[i - 1]
        if not on or t <= t_mark:
            return list(base)
        added = self.source.between(t_mark, t)
        out = [base[k] + added[k] for k in range(self.tariffs)]
        self._last = (t, out)
        return list(out)

    def total(self, t):
        return sum(self.at(t))

    def set_consuming(self, t, on):
        """Start or stop consumption at ``t`` (relay moved, supply lost or back)."""
        last = self._marks[-1]
        if t < last[0]:
            t = last[0]
        if last[2] == on:
            return
        self._marks.append((t, self.at(t), on))
        self._last = None
        self._prune(t)

    def step(self, t, kwh):
        """The tariff-1 register moves by ``kwh`` at ``t`` (a register fault); freezes before
        ``t`` keep their values."""
        last = self._marks[-1]
        t = max(t, last[0])
        now = self.at(t)
        now[0] += kwh
        self._marks.append((t, now, last[2]))
        self._last = None

    def reset(self, t):
        """Meter clear: registers restart from zero at ``t``."""
        last = self._marks[-1]
        self._marks.append((max(t, last[0]), [0.0] * self.tariffs, last[2]))
        self._last = None

    def _prune(self, t):
        cutoff = t - self.keep_s
        while len(self._marks) > 2 and self._marks[1][0] < cutoff:
            self._marks.pop(0)

    def consuming_at(self, t):
        """Whether the load was supplied at true time ``t``."""
        i = _bisect_right(self._marks, t)
        return self._marks[max(i - 1, 0)][2]
