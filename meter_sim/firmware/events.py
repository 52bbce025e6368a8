"""Event records (事件记录): a count and the last ten records per family."""
from protocols.dlt645 import di as DI


class EventLog:
    """Per family: total count and records newest first; open records are lists (end set later)."""

    def __init__(self, capacity=DI.EVENT_RECORDS):
        self.capacity = capacity
        self.counts = {}
        self.records = {}

    def add(self, family, values):
        """Record an event; returns the record (a list) so an end time can be filled in later."""
        rec = list(values)
        self.counts[family] = self.counts.get(family, 0) + 1
        recs = self.records.setdefault(family, [])
        recs.insert(0, rec)
        del recs[self.capacity:]
        return rec

    def latest(self, family):
        recs = self.records.get(family)
        return recs[0] if recs else None

    def count(self, family):
        return self.counts.get(family, 0)

    def get(self, family, n):
        recs = self.records.get(family, [])
        if 1 <= n <= len(recs):
            return recs[n - 1]
        return None

    def clear(self, family=None, keep=()):
        """Clear one family, or all except those in ``keep``."""
        families = [family] if family is not None else list(self.counts)
        for f in families:
            if f in keep:
                continue
            self.counts.pop(f, None)
            self.records.pop(f, None)
