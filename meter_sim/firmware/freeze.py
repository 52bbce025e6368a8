"""Freezes (冻结) computed lazily: instants are found when asked, values come from the ledger.

A freeze instant F is in meter-clock time; its value is the ledger at the true time the clock
showed F. Instants skipped by a forward clock jump are made up at the jump (补冻); a backward
jump never freezes an instant twice.
"""
from protocols.civil import DAY, from_civil, to_civil, days_in_month


def next_midnight(c):
    return (int(c // DAY) + 1) * DAY


def next_settlement(c, day=1, hour=0):
    """First settlement instant (day ``day`` of a month at ``hour``) strictly after ``c``."""
    y, m = to_civil(c)[:2]
    for _ in range(3):
        d = min(day, days_in_month(y, m))
        inst = from_civil(y, m, d, hour)
        if inst > c:
            return inst
        m += 1
        if m > 12:
            y, m = y + 1, 1
    raise ValueError("no settlement instant found")


class FreezeBook:
    """Records (instant in meter time, true time) newest first, at most ``capacity``."""

    def __init__(self, capacity, next_instant, c0):
        self.capacity = capacity
        self.next_instant = next_instant
        self.records = []
        self._upto = c0          # instants <= _upto are already produced

    def sync(self, t, clock):
        """Produce every instant the clock has passed by true time ``t``."""
        c = clock.read(t)
        produced = []
        inst = self.next_instant(self._upto)
        while inst <= c:
            produced.append(inst)
            if len(produced) > self.capacity:
                produced.pop(0)
            inst = self.next_instant(inst)
        for inst in produced:
            t_true = clock.true_time(inst)
            if t_true < clock.last_set:
                t_true = clock.last_set
            if t_true > t:
                t_true = t
            self.records.insert(0, (inst, t_true))
        del self.records[self.capacity:]
        if c > self._upto:
            self._upto = c

    def add(self, c, t):
        """An instant freeze (0x16 with all 99)."""
        self.records.insert(0, (c, t))
        del self.records[self.capacity:]

    def get(self, n):
        """n-th last record (1 = newest) or None."""
        if 1 <= n <= len(self.records):
            return self.records[n - 1]
        return None

    def clear(self, c):
        self.records = []
        self._upto = c
