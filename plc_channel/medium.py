"""What every medium returns for one request: the reply (or why not) and what it cost."""


class Delivery:
    """Outcome of one request on a medium.

    ``reason``: 'ok', 'unreachable' (no route), 'hop failed' (a carrier hop gave up),
    'meter silent' (delivered, no answer in time). ``tx`` counts transmissions (MAC attempts).
    """

    __slots__ = ("reply", "reason", "depth", "airtime", "started", "ended", "tx")

    def __init__(self, reason, reply=None, depth=0, airtime=0.0, started=0.0, ended=0.0, tx=0):
        self.reply = reply
        self.reason = reason
        self.depth = depth
        self.airtime = airtime
        self.started = started
        self.ended = ended
        self.tx = tx

    @property
    def ok(self):
        return self.reply is not None

    def __repr__(self):
        return "Delivery(%s, depth=%d, tx=%d, airtime=%.3f)" % (
            self.reason, self.depth, self.tx, self.airtime)


class Stats:
    """Per-depth counters of a medium (requests, answered, airtime) and per hour of the day
    (requests, answered: the channel quality a report plots)."""

    def __init__(self):
        self.by_depth = {}
        self.by_hour = {}

    def add(self, d, t=None):
        if t is not None:
            hour = self.by_hour.setdefault(int(t // 3600) % 24, {"requests": 0, "answered": 0})
            hour["requests"] += 1
            hour["answered"] += 1 if d.ok else 0
        row = self.by_depth.setdefault(d.depth, {"requests": 0, "answered": 0, "airtime_s": 0.0,
                                                 "transmissions": 0})
        row["requests"] += 1
        row["answered"] += 1 if d.ok else 0
        row["airtime_s"] += d.airtime
        row["transmissions"] += d.tx
