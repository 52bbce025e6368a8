"""The uplink backlog's marks (1k, 10k, 100k, 1M readings not yet at the master), logged once
each way: WARNING when the backlog reaches a mark, INFO when it is back under half of it."""
import logging

MARKS = (1_000, 10_000, 100_000, 1_000_000)
CHECK_S = 10.0                  # the backlog is counted at most this often (agent's clock)

log = logging.getLogger(__name__)


def _mark(n):
    return "%dk" % (n // 1000) if n < 1_000_000 else "%dM" % (n // 1_000_000)


class BacklogWatch:
    """Counts the backlog with ``count()`` now and then, and logs the marks it crosses."""

    def __init__(self, count, marks=MARKS, every_s=CHECK_S):
        self.count = count
        self.marks = tuple(marks)
        self.every_s = every_s
        self.level = 0                  # marks reached and not yet left
        self.size = None
        self._due = None

    def check(self, now):
        """Count the backlog if ``every_s`` have passed since the last count."""
        if self._due is not None and now < self._due:
            return
        self._due = now + self.every_s
        self.observe(self.count())

    def observe(self, n):
        self.size = n
        level = self.level
        while level < len(self.marks) and n >= self.marks[level]:
            level += 1
        while level > 0 and n < self.marks[level - 1] // 2:
            level -= 1
        if level > self.level:
            mark = self.marks[level - 1]
            log.warning("uplink backlog reached %s readings: %d not yet at the master",
                        _mark(mark), n, extra={"event": "backlog_up", "mark": mark, "backlog": n})
        elif level < self.level:
            mark = self.marks[self.level - 1]
            log.info("uplink backlog back under half the %s mark: %d readings", _mark(mark), n,
                     extra={"event": "backlog_down", "mark": mark, "backlog": n})
        self.level = level
